import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, type TableNames } from '../sql/ddl.js';
import { modelPricesTable } from './usage-tables.js';

/** One row of infra/model-prices.csv: USD per million tokens of a canonical model, from a date on. */
export interface ModelPrice {
  model: string;
  effectiveFrom: string;
  inputUsdPerMtok: number;
  outputUsdPerMtok: number;
  cacheReadUsdPerMtok: number;
  cacheWriteUsdPerMtok: number;
  source: string;
  checkedOn: string;
}

const HEADER = 'model,effective_from,input_usd_per_mtok,output_usd_per_mtok,cache_read_usd_per_mtok,cache_write_usd_per_mtok,source,checked_on';
const MODEL = /^[a-z0-9][a-z0-9_-]*$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Written into SQL as literals: no quotes or backslashes (Spark unescapes them, DuckDB does not). */
const SOURCE = /^[^'"\\\n]{1,500}$/;

/** Parses the seed file; each error names the line and the field. */
export function parsePriceSeed(text: string, file = 'infra/model-prices.csv'): ModelPrice[] {
  const lines = text.split('\n').map((line, i) => ({ line: line.trim(), at: `${file}:${i + 1}` })).filter(({ line }) => line && !line.startsWith('#'));
  if (lines[0]?.line !== HEADER) throw new Error(`${file}: the first row must be the header ${HEADER}`);
  return lines.slice(1).map(({ line, at }) => {
    const fields = line.split(',');
    if (fields.length !== 8) throw new Error(`${at}: expected 8 comma-separated fields, found ${fields.length}`);
    const [model, effectiveFrom, input, output, cacheRead, cacheWrite, source, checkedOn] = fields as [string, ...string[]];
    const price = (value: string | undefined, name: string) => {
      const n = Number(value);
      if (value === undefined || value.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`${at}: ${name}: expected a price >= 0 in USD per million tokens, got "${value}"`);
      return n;
    };
    const date = (value: string | undefined, name: string) => {
      if (!value || !DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw new Error(`${at}: ${name}: expected YYYY-MM-DD, got "${value}"`);
      return value;
    };
    if (!MODEL.test(model)) throw new Error(`${at}: model: expected a canonical model name (lower case, digits, - and _), got "${model}"`);
    if (!source || !SOURCE.test(source)) throw new Error(`${at}: source: expected text without quotes or backslashes`);
    return {
      model,
      effectiveFrom: date(effectiveFrom, 'effective_from'),
      inputUsdPerMtok: price(input, 'input_usd_per_mtok'),
      outputUsdPerMtok: price(output, 'output_usd_per_mtok'),
      cacheReadUsdPerMtok: price(cacheRead, 'cache_read_usd_per_mtok'),
      cacheWriteUsdPerMtok: price(cacheWrite, 'cache_write_usd_per_mtok'),
      source,
      checkedOn: date(checkedOn, 'checked_on'),
    };
  });
}

export function readPriceSeed(): ModelPrice[] {
  return parsePriceSeed(readFileSync(join(projectRoot(), 'infra', 'model-prices.csv'), 'utf8'));
}

/**
 * Adds the seed rows the price table lacks, by (model, effective_from): a rerun, or a price the operator
 * changed, is left alone. Values are validated literals (parsePriceSeed); the same text runs on both engines.
 */
export function priceSeedStatement(names: TableNames, prices: ModelPrice[]): string {
  const rows = prices.map(
    (p) =>
      `('${p.model}', DATE'${p.effectiveFrom}', CAST(${p.inputUsdPerMtok} AS DOUBLE), CAST(${p.outputUsdPerMtok} AS DOUBLE), ` +
      `CAST(${p.cacheReadUsdPerMtok} AS DOUBLE), CAST(${p.cacheWriteUsdPerMtok} AS DOUBLE), '${p.source}', DATE'${p.checkedOn}')`,
  );
  return [
    `MERGE INTO ${modelPricesTable(names)} AS t`,
    `USING (SELECT * FROM (VALUES\n  ${rows.join(',\n  ')}\n) AS v(model, effective_from, input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok, cache_write_usd_per_mtok, source, checked_on)) AS s`,
    'ON t.model = s.model AND t.effective_from = s.effective_from',
    'WHEN NOT MATCHED THEN INSERT (model, effective_from, input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok, cache_write_usd_per_mtok, source, checked_on)',
    'VALUES (s.model, s.effective_from, s.input_usd_per_mtok, s.output_usd_per_mtok, s.cache_read_usd_per_mtok, s.cache_write_usd_per_mtok, s.source, s.checked_on)',
  ].join('\n');
}

import { isoDay, parseRange, requestedRange, rollupUsage } from '../usage/rollup-usage.js';
import { usageDailyTable, usageTablesFor } from '../usage/usage-tables.js';
import { cliArgs, cliContext, runCli } from './cli-context.js';

const HELP = `
npm run usage -- [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--chunk-days <n>]

Recomputes daily usage for the range (default: the last USAGE_WINDOW_DAYS days; --from alone: that
day) where the data is: in the SQL warehouse (Databricks mode) or in the local DuckDB file (stop
npm start first, or use POST /api/usage/rollup). A long range runs in chunks, one line each.
Models without a price are named.

  --from, --to        first and last UTC day, inclusive (at most 366 days)
  --chunk-days <n>    days per statement, 1 to 366 (default 31)
  -h, --help          this text
`;

runCli(async () => {
  const { values } = cliArgs(HELP, { options: { from: { type: 'string' }, to: { type: 'string' }, 'chunk-days': { type: 'string', default: '31' } } });
  const chunkDays = Number(values['chunk-days']);
  if (!/^\d+$/.test(values['chunk-days']) || chunkDays < 1 || chunkDays > 366) throw new Error('--chunk-days: expected an integer from 1 to 366');
  const { settings, openStore } = await cliContext();
  const tables = usageTablesFor(settings);
  const range = requestedRange(values.from, values.to, settings.usage.windowDays);
  const { fromDay, toDay } = parseRange(range);
  const { store, close } = await openStore();
  try {
    const started = Date.now();
    const chunks = Math.ceil((toDay - fromDay + 1) / chunkDays);
    let rows = 0;
    let unpriced = 0;
    // Each day is recomputed from its own raw rows (and the day before it), so chunks add up to one run.
    for (let first = fromDay, n = 1; first <= toDay; first += chunkDays, n++) {
      const chunkStarted = Date.now();
      const result = await rollupUsage(store, tables, { from: isoDay(first), to: isoDay(Math.min(first + chunkDays - 1, toDay)) }, new Date(), (m) => console.error(m));
      rows += result.rows;
      unpriced += result.unpriced.rows;
      if (chunks > 1) console.log(`  ${result.range.from}..${result.range.to}: ${result.rows} rows (${Date.now() - chunkStarted} ms) [${n}/${chunks}]`);
    }
    const gateway = tables.gatewayUsage ? `gateway usage from ${tables.gatewayUsage}` : 'gateway usage off';
    console.log(`usage ${range.from}..${range.to}: ${rows} rows in ${usageDailyTable(tables)} (${Date.now() - started} ms, ${store.dialect}, ${gateway}; ${unpriced} rows unpriced)`);
  } finally {
    await close();
  }
});

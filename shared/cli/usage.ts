import { tableName } from '../sql/ddl.js';
import { isoDay, parseRange, requestedRange, rollupUsage } from '../usage/rollup-usage.js';
import { cliArgs, cliContext, runCli } from './cli-context.js';

const HELP = `
npm run usage -- [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--chunk-days <n>]

Recomputes daily usage for the range (default: the last USAGE_WINDOW_DAYS days; --from alone: that
day) where the data is: in the SQL warehouse (Databricks mode) or in the local DuckDB file (stop
npm start first, or use POST /api/usage/rollup). A long range runs in chunks, one line each.

  --from, --to        first and last UTC day, inclusive (at most 366 days)
  --chunk-days <n>    days per statement, 1 to 366 (default 31)
  -h, --help          this text
`;

runCli(async () => {
  const { values } = cliArgs(HELP, { options: { from: { type: 'string' }, to: { type: 'string' }, 'chunk-days': { type: 'string', default: '31' } } });
  const chunkDays = Number(values['chunk-days']);
  if (!/^\d+$/.test(values['chunk-days']) || chunkDays < 1 || chunkDays > 366) throw new Error('--chunk-days: expected an integer from 1 to 366');
  const { settings, names, openStore } = await cliContext();
  const range = requestedRange(values.from, values.to, settings.usage.windowDays);
  const { fromDay, toDay } = parseRange(range);
  const { store, close } = await openStore();
  try {
    const started = Date.now();
    const chunks = Math.ceil((toDay - fromDay + 1) / chunkDays);
    let rows = 0;
    // Each day is recomputed from its own raw rows (and the day before it), so chunks add up to one run.
    for (let first = fromDay, n = 1; first <= toDay; first += chunkDays, n++) {
      const chunkStarted = Date.now();
      const result = await rollupUsage(store, names, { from: isoDay(first), to: isoDay(Math.min(first + chunkDays - 1, toDay)) });
      rows += result.rows;
      if (chunks > 1) console.log(`  ${result.range.from}..${result.range.to}: ${result.rows} rows (${Date.now() - chunkStarted} ms) [${n}/${chunks}]`);
    }
    console.log(`usage ${range.from}..${range.to}: ${rows} rows in ${tableName(names, '_usage_daily')} (${Date.now() - started} ms, ${store.dialect})`);
  } finally {
    await close();
  }
});

import { parseArgs } from 'node:util';
import { tableName } from '../sql/ddl.js';
import { requestedRange, rollupUsage } from '../usage/rollup-usage.js';
import { cliContext, runCli } from './cli-context.js';

/*
 * npm run usage -- [--from YYYY-MM-DD] [--to YYYY-MM-DD]
 * Recomputes daily usage for the range (default: the last USAGE_WINDOW_DAYS days) where the data is:
 * in the SQL warehouse (Databricks mode) or in the local DuckDB file.
 */
runCli(async () => {
  const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } } });
  const { settings, names, openStore } = await cliContext();
  const range = requestedRange(values.from, values.to, settings.usage.windowDays);
  const { store, close } = await openStore();
  try {
    const started = Date.now();
    const result = await rollupUsage(store, names, range);
    console.log(`usage ${result.range.from}..${result.range.to}: ${result.rows} rows in ${tableName(names, '_usage_daily')} (${Date.now() - started} ms, ${store.dialect})`);
  } finally {
    await close();
  }
});

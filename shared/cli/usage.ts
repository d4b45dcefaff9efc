import { parseArgs } from 'node:util';
import { requestedRange, rollupUsage } from '../usage/rollup-usage.js';
import { usageDailyTable, usageTablesFor } from '../usage/usage-tables.js';
import { cliContext, runCli } from './cli-context.js';

/*
 * npm run usage -- [--from YYYY-MM-DD] [--to YYYY-MM-DD]
 * Recomputes daily usage for the range (default: the last USAGE_WINDOW_DAYS days) where the data is:
 * in the SQL warehouse (Databricks mode) or in the local DuckDB file. Models without a price are named.
 */
runCli(async () => {
  const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } } });
  const { settings, openStore } = await cliContext();
  const tables = usageTablesFor(settings);
  const range = requestedRange(values.from, values.to, settings.usage.windowDays);
  const { store, close } = await openStore();
  try {
    const started = Date.now();
    const result = await rollupUsage(store, tables, range, new Date(), (m) => console.error(m));
    const gateway = tables.gatewayUsage ? `gateway usage from ${tables.gatewayUsage}` : 'gateway usage off';
    console.log(`usage ${result.range.from}..${result.range.to}: ${result.rows} rows in ${usageDailyTable(tables)} (${Date.now() - started} ms, ${store.dialect}, ${gateway}; ${result.unpriced.rows} rows unpriced)`);
  } finally {
    await close();
  }
});

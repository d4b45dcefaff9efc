import { app, type InvocationContext, type Timer } from '@azure/functions';
import { startedApp } from '../shared/functions-host.js';

export async function usageDaily(_timer: Timer, context: InvocationContext) {
  const result = await (await startedApp()).runUsage();
  context.log(`usage roll-up ${result.range.from}..${result.range.to}: ${result.rows} rows`);
}

// NCRONTAB from the USAGE_SCHEDULE app setting (UTC); the default when the setting is absent.
app.timer('usageDaily', { schedule: process.env.USAGE_SCHEDULE ? '%USAGE_SCHEDULE%' : '0 15 0 * * *', handler: usageDaily });

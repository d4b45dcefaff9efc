import { app, type InvocationContext, type Timer } from '@azure/functions';
import { startedApp } from '../shared/functions-host.js';

export async function spoolReplay(_timer: Timer, context: InvocationContext) {
  const report = await (await startedApp()).replaySpool();
  if (report && report.replayed + report.deadLettered > 0) context.log(`spool replay: ${report.replayed} replayed, ${report.deadLettered} dead-lettered, ${report.ended}`);
}

// NCRONTAB from the RELAY_SPOOL_REPLAY_SCHEDULE app setting (UTC); the default when the setting is absent.
app.timer('spoolReplay', { schedule: process.env.RELAY_SPOOL_REPLAY_SCHEDULE ? '%RELAY_SPOOL_REPLAY_SCHEDULE%' : '0 * * * * *', handler: spoolReplay });

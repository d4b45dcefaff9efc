import { readFileSync } from 'node:fs';
import { TelemetryDb } from '../../../shared/local/telemetry-db.js';
import { duckdbUsageStore } from '../../../shared/usage/duckdb-usage-store.js';
import { rollupUsage } from '../../../shared/usage/rollup-usage.js';

// One roll-up of 2026-11-22 over an existing DuckDB file, in a process of its own so its peak RSS is its own.
const names = { catalog: 'bench', schema: 'coding_agents', prefix: 'agents', gatewayUsage: 'bench.ai_gateway.usage' };
const db = await TelemetryDb.open(process.argv[2]!, names);
const started = performance.now();
const result = await rollupUsage(duckdbUsageStore(db.connection), names, { from: '2026-11-22', to: '2026-11-22' }, new Date('2026-11-23T00:15:00Z'));
const seconds = (performance.now() - started) / 1000;
db.close();
const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
console.log(JSON.stringify({ seconds, rows: result.rows, peakRssMb: Math.round(peakKb / 1024) }));

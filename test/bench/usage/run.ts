/*
 * npm run bench:usage: a generated UTC day of 1,000,000 metric data points, 1,000,000 log records and
 * 1,000,000 AI Gateway usage rows (BENCH_POINTS, BENCH_RECORDS, BENCH_GATEWAY) in a DuckDB file, then the
 * usage roll-up of that day, run BENCH_RUNS times (3) in fresh processes: the first run inserts, later
 * ones find nothing to change. Reports seconds, input rows per second and peak RSS of the roll-up process.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TelemetryDb } from '../../../shared/local/telemetry-db.js';
import { fillSql } from '../../../shared/sql/ddl.js';
import { renderSql } from '../../../shared/usage/dialect.js';

const POINTS = Number(process.env.BENCH_POINTS ?? 1_000_000);
const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const GATEWAY = Number(process.env.BENCH_GATEWAY ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const names = { catalog: 'bench', schema: 'coding_agents', prefix: 'agents' }; // as rollup-once.ts

const dir = mkdtempSync(join(tmpdir(), 'bench-usage-'));
const file = join(dir, 'bench.duckdb');
try {
  const db = await TelemetryDb.open(file, names);
  const generated = performance.now();
  const generate = fillSql(readFileSync(join(import.meta.dirname, 'generate.sql'), 'utf8'), names);
  for (const statement of renderSql(generate, 'duckdb').split(';').filter((s) => s.trim())) {
    const params = Object.fromEntries(Object.entries({ points: BigInt(POINTS), records: BigInt(RECORDS), gateway: BigInt(GATEWAY) }).filter(([name]) => statement.includes(`$${name}`)));
    await db.connection.run(statement, params);
  }
  db.close();
  console.log(`generated ${POINTS} metric points, ${RECORDS} log records and ${GATEWAY} gateway rows in ${((performance.now() - generated) / 1000).toFixed(1)} s`);
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'rollup-once.ts'), file]).toString();
    const run = JSON.parse(out.trim().split('\n').at(-1)!) as { seconds: number; rows: number; peakRssMb: number };
    runs.push(run);
    console.log(`run ${i + 1}: ${run.seconds.toFixed(2)} s, ${run.rows} usage rows, peak RSS ${run.peakRssMb} MB`);
  }
  const first = runs[0]!;
  const report = {
    date: new Date().toISOString(),
    input: { metricPoints: POINTS, logRecords: RECORDS, gatewayRows: GATEWAY },
    firstRunSeconds: Number(first.seconds.toFixed(2)),
    rerunSeconds: runs.slice(1).map((r) => Number(r.seconds.toFixed(2))),
    inputRowsPerSecond: Math.round((POINTS + RECORDS + GATEWAY) / first.seconds),
    usageRows: first.rows,
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
  };
  console.log(JSON.stringify(report, null, 2));
  writeFileSync(join(import.meta.dirname, 'last-run.json'), `${JSON.stringify(report, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/*
 * npm run bench:startup: what a cold start costs on the Functions host, on the published bundle.
 *   - upload: the files `func azure functionapp publish` sends (the folder filtered by .funcignore),
 *     their total size and the size of a zip of them (zip -9, when the zip tool is there);
 *   - in BENCH_STARTS (7) fresh plain Node processes, the import of dist/azure/*.js (the entry files);
 *   - in BENCH_STARTS fresh processes, a stand-in worker (test/functions/host-process.ts) loading
 *     dist/azure/*.js: the time to import the entry files, and the appStart hook (loading the app's
 *     modules and building it in Databricks mode, secrets from the environment); medians.
 * Results land in test/bench/startup/last-run.json.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ignore from 'ignore';
import { bearerFor, TEST_SIGNING_KEY } from '../../credentials.js';
import { fakeDatabricksIngest } from '../../fakes/databricks-ingest.js';
import { fixture } from '../../fixtures.js';

const ROOT = join(import.meta.dirname, '../../..');
const STARTS = Number(process.env.BENCH_STARTS ?? 7);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const rel = relative(ROOT, path);
    if (rel === '.git' || rel === 'node_modules') return [];
    return statSync(path).isDirectory() ? walk(path) : [rel];
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const published = ignore().add(readFileSync(join(ROOT, '.funcignore'), 'utf8')).filter(walk(ROOT));
const bytes = published.reduce((n, f) => n + statSync(join(ROOT, f)).size, 0);
let zipBytes: number | undefined;
if (spawnSync('sh', ['-c', 'command -v zip']).status === 0) {
  const zip = join(mkdtempSync(join(tmpdir(), 'bench-zip-')), 'upload.zip');
  execFileSync('zip', ['-q', '-9', zip, ...published], { cwd: ROOT });
  zipBytes = statSync(zip).size;
}

const ingest = await fakeDatabricksIngest();
const env = {
  PATH: process.env.PATH,
  DATABRICKS_HOST: 'https://adb-123.4.azuredatabricks.net',
  OTEL_INGEST_URL: `${ingest.url}/api/2.0/otel`,
  UC_CATALOG: 'main',
  UC_SCHEMA: 'telemetry',
  UC_TABLE_PREFIX: 'agents',
  DATABRICKS_TOKEN: 'dapi-bench',
  RELAY_SIGNING_KEY: TEST_SIGNING_KEY,
  EXPORT_BODY_BASE64: fixture('claude-code-2.1.197.metrics.pb').body.toString('base64'),
  EXPORT_AUTHORIZATION: await bearerFor('claude-code'),
};
const plainImport: number[] = [];
for (let i = 0; i < STARTS; i++) {
  // Plain Node, no stand-in: @azure/functions runs in test mode and registers nothing, but every module loads.
  const script = `const t = performance.now(); for (const f of ${JSON.stringify(readdirSync(join(ROOT, 'dist/azure')).filter((f) => f.endsWith('.js')))}) await import('./dist/azure/' + f); console.log(performance.now() - t);`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
  plainImport.push(Number(stdout.trim().split('\n').at(-1)));
}
const entries: number[] = [];
const appStart: number[] = [];
for (let i = 0; i < STARTS; i++) {
  // Asynchronously: the fake ingest in this process must answer meanwhile.
  const { stdout: out } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'test/functions/host-process.ts'), join(ROOT, 'dist/azure')], { cwd: ROOT, env });
  const first = JSON.parse(out.split('\n').find((line) => line.startsWith('{"phase":"export"'))!) as { entriesMs: number; appStartMs: number; status: number };
  if (first.status !== 200) throw new Error(`export answered ${first.status}`);
  entries.push(first.entriesMs);
  appStart.push(first.appStartMs);
}
await ingest.close();

const report = {
  date: new Date().toISOString(),
  upload: { files: published.length, bytes, megabytes: Number((bytes / 1024 / 1024).toFixed(2)), zipBytes, zipMegabytes: zipBytes && Number((zipBytes / 1024 / 1024).toFixed(2)) },
  starts: STARTS,
  importEntriesPlainNodeMs: Number(median(plainImport).toFixed(1)),
  importEntriesUnderStandInMs: Number(median(entries).toFixed(1)),
  appStartMs: Number(median(appStart).toFixed(1)),
  note: 'medians over fresh processes on a 2-core machine shared with other work; the stand-in worker runs under the tsx loader, which slows module loading',
};
console.log(JSON.stringify(report, null, 2));
writeFileSync(join(import.meta.dirname, 'last-run.json'), JSON.stringify(report, null, 2) + '\n');

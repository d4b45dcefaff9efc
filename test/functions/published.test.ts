import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerFor, TEST_SIGNING_KEY } from '../credentials.js';
import { fakeDatabricksIngest, type FakeIngest } from '../fakes/databricks-ingest.js';
import { fixture } from '../fixtures.js';

/*
 * The published bundle (dist/azure, what .funcignore lets through) and the sources, each loaded in a
 * fresh process by a stand-in worker (host-process.ts): the functions register, the app starts, an
 * export is relayed, and the relay's path never loads the SQL driver or DuckDB (the usage route does,
 * on demand, which shows the check sees them).
 */

const ROOT = join(import.meta.dirname, '../..');
let ingest: FakeIngest;

beforeAll(async () => {
  ingest = await fakeDatabricksIngest();
  await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/bundle.mjs')], { cwd: ROOT });
}, 120_000);
afterAll(() => ingest.close());

interface Phase {
  phase: string;
  status: number;
  registered?: string[];
  resolved: string[];
}

async function runWorker(dir: string): Promise<Phase[]> {
  const env = {
    PATH: process.env.PATH,
    RECORD_MODULES: '1',
    DATABRICKS_HOST: 'https://adb-123.4.azuredatabricks.net',
    OTEL_INGEST_URL: `${ingest.url}/api/2.0/otel`,
    UC_CATALOG: 'main',
    UC_SCHEMA: 'telemetry',
    UC_TABLE_PREFIX: 'agents',
    DATABRICKS_TOKEN: 'dapi-from-environment',
    RELAY_SIGNING_KEY: TEST_SIGNING_KEY,
    EXPORT_BODY_BASE64: fixture('claude-code-2.1.197.metrics.pb').body.toString('base64'),
    EXPORT_AUTHORIZATION: await bearerFor('claude-code'),
  };
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'test/functions/host-process.ts'), join(ROOT, dir)], { cwd: ROOT, env });
  return stdout.split('\n').filter((line) => line.startsWith('{"phase"')).map((line) => JSON.parse(line) as Phase);
}

/** The modules loaded so far that are (or, in the bundle, contain) one of `packages`. */
function loading(resolved: string[], packages: RegExp): string[] {
  return resolved.filter((url) => {
    if (packages.test(url)) return true;
    if (!url.startsWith('file:') || !url.includes('/dist/azure/')) return false;
    return packages.test(readFileSync(fileURLToPath(url), 'utf8'));
  });
}
const SQL_OR_DUCKDB = /node_modules\/(@databricks\/sql|@duckdb\/node-api)\//;
const BLOB_STORAGE = /node_modules\/@azure\/storage-blob\//;

describe.each(['dist/azure', 'functions'])('a worker loading %s', (dir) => {
  let phases: Phase[];
  beforeAll(async () => {
    phases = await runWorker(dir);
  }, 120_000);

  it('registers the functions, starts the app and relays an export', () => {
    expect(phases[0]!.registered!.sort()).toEqual(['config', 'credential', 'dashboard', 'health', 'localSql', 'metrics', 'otel', 'spoolReplay', 'usageDaily', 'usageRead', 'usageRollup']);
    expect(phases[0]!.status).toBe(200);
    expect(ingest.requests.at(-1)!.headers.authorization).toBe('Bearer dapi-from-environment');
  });

  it('never loads @databricks/sql or DuckDB on the relay path, and loads the SQL driver for the usage route', () => {
    expect(loading(phases[0]!.resolved, SQL_OR_DUCKDB)).toEqual([]);
    expect(phases[1]!.status).toBe(503); // no warehouse configured
    expect(loading(phases[1]!.resolved, SQL_OR_DUCKDB).length).toBeGreaterThan(0);
  });

  it('never loads the Blob Storage SDK with the spool off', () => {
    expect(loading([...phases[0]!.resolved, ...phases[1]!.resolved], BLOB_STORAGE)).toEqual([]);
  });
});

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { bearerFor, TEST_SIGNING_KEY } from '../credentials.js';
import { markedExport, switchableIngest } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

describe('npm start with the spool on and no storage account', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'relay-local-spool-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('starts Azurite itself with its data under .local/, spools into it, and takes it down when killed', async () => {
    const ingest = await switchableIngest();
    ingest.setDown(true);
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'shared/local/main.ts')], {
      cwd,
      env: { PATH: process.env.PATH, LOCAL_PORT: '0', RELAY_SPOOL: 'on-failure', OTEL_INGEST_URL: `${ingest.url}/api/2.0/otel`, DATABRICKS_TOKEN: 'dapi-test', RELAY_SIGNING_KEY: TEST_SIGNING_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const [url, azurite] = await new Promise<[string, string]>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const relay = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          const storage = /spool in Azurite at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (relay && storage) resolve([relay[1]!, storage[1]!]);
        });
        child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.once('exit', (code) => reject(new Error(`runner exited with ${code}: ${out}`)));
      });
      expect(existsSync(join(cwd, '.local', 'azurite'))).toBe(true);
      const response = await fetch(`${url}/api/otel/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: await bearerFor('codex') },
        body: markedExport('local'),
      });
      expect(response.status).toBe(200);
      const health = (await (await fetch(`${url}/api/health`)).json()) as { spool: { exports: number } };
      expect(health.spool.exports).toBe(1);

      child.kill('SIGKILL');
      let azuriteUp = true;
      for (let i = 0; i < 50 && azuriteUp; i++) {
        await sleep(100);
        azuriteUp = await fetch(azurite).then(() => true, () => false);
      }
      expect(azuriteUp).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await ingest.close();
    }
  }, 60_000);
});

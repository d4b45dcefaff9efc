import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryLocalRows } from '../../shared/local/query-local-rows.js';
import { TelemetryDb } from '../../shared/local/telemetry-db.js';
import { fakeServer } from '../fakes/http-server.js';

const NAMES = { catalog: 'dev', schema: 'coding_agents', prefix: 'agents' };

/** A port nothing listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('queryLocalRows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'query-local-rows-'));
  const path = join(dir, 'telemetry.duckdb');

  beforeAll(async () => {
    const db = await TelemetryDb.open(path, NAMES);
    await db.connection.run(`INSERT INTO dev.coding_agents.agents_usage_daily (usage_date, agent, user_id, user_email, model) VALUES (DATE '2026-11-22', 'codex', 'u1', 'u1@x', 'm')`);
    db.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens the file read-only and resolves the Databricks names when nothing holds it', async () => {
    const result = await queryLocalRows({ path, names: NAMES, port: await closedPort(), sql: 'SELECT agent, user_email FROM coding_agents.agents_usage_daily', maxRows: 10 });
    expect(result).toEqual({ columns: ['agent', 'user_email'], types: ['VARCHAR', 'VARCHAR'], rows: [['codex', 'u1@x']], truncated: false, via: 'file' });
  });

  it('refuses statements that write, and the file keeps its rows', async () => {
    const port = await closedPort();
    await expect(queryLocalRows({ path, names: NAMES, port, sql: 'DELETE FROM coding_agents.agents_usage_daily', maxRows: 10 })).rejects.toThrow(/^read-only: .* not DELETE statements$/);
    expect((await queryLocalRows({ path, names: NAMES, port, sql: 'SELECT count(*) AS n FROM coding_agents.agents_usage_daily', maxRows: 10 })).rows).toEqual([['1']]);
  });

  it('says so when there are no local rows yet', async () => {
    await expect(queryLocalRows({ path: join(dir, 'none.duckdb'), names: NAMES, port: 1, sql: 'SELECT 1', maxRows: 1 })).rejects.toThrow(
      `no local rows yet: ${join(dir, 'none.duckdb')} does not exist (npm start creates it; LOCAL_DUCKDB_PATH names it)`,
    );
  });

  describe('while another process holds the file (as npm start does)', () => {
    let holder: ChildProcess;

    beforeAll(async () => {
      // DuckDB's lock is per process: only another process shows what npm run sql meets.
      const script = `import { DuckDBInstance } from '@duckdb/node-api'; const i = await DuckDBInstance.create(${JSON.stringify(path)}); await i.connect(); console.log('holding'); setInterval(() => {}, 1000);`;
      holder = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.once('data', () => resolve());
        holder.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
      });
    });
    afterAll(() => void holder.kill('SIGKILL'));

    it('asks the relay on LOCAL_PORT and returns its answer', async () => {
      const answer = { columns: ['n'], types: ['BIGINT'], rows: [['1']], truncated: false };
      const relay = await fakeServer((_request, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)));
      try {
        const port = Number(new URL(relay.url).port);
        const result = await queryLocalRows({ path, names: NAMES, port, sql: 'SELECT count(*) AS n FROM coding_agents.agents_usage_daily', maxRows: 7 });
        expect(result).toEqual({ ...answer, via: 'relay' });
        expect(relay.requests.map((r) => [r.method, r.url, r.headers['content-type'], JSON.parse(r.body.toString())])).toEqual([
          ['POST', '/api/local/sql', 'application/json', { sql: 'SELECT count(*) AS n FROM coding_agents.agents_usage_daily', maxRows: 7 }],
        ]);
      } finally {
        await relay.close();
      }
    });

    it("passes on the relay's refusal", async () => {
      const relay = await fakeServer((_request, res) => void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'expected one statement, got 2' })));
      try {
        await expect(queryLocalRows({ path, names: NAMES, port: Number(new URL(relay.url).port), sql: 'SELECT 1; SELECT 2', maxRows: 7 })).rejects.toThrow(/^expected one statement, got 2$/);
      } finally {
        await relay.close();
      }
    });

    it('names the process that holds the file when no relay answers', async () => {
      const port = await closedPort();
      await expect(queryLocalRows({ path, names: NAMES, port, sql: 'SELECT 1', maxRows: 1 })).rejects.toThrow(
        `${path} is held by process ${holder.pid} and no relay answers on 127.0.0.1:${port}: stop that process, or set LOCAL_PORT to the port of the npm start that holds it`,
      );
    });
  });
});

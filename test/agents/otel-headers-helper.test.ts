import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otelHeadersHelperCommand } from '../../shared/agents/otel-headers-helper.js';
import { fakeServer, type FakeServer } from '../fakes/http-server.js';

/* The helper command run by sh, as Claude Code runs it, against a loopback relay and a fake `az`. */

const run = promisify(execFile);
let relay: FakeServer;
let bin: string;
let status = 200;

beforeAll(async () => {
  relay = await fakeServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(status === 200 ? '{"Authorization":"Bearer a.b.c"}\n' : '{\n  "error": "access token expired"\n}\n');
  });
  bin = mkdtempSync(join(tmpdir(), 'helper-bin-'));
  writeFileSync(join(bin, 'az'), '#!/bin/sh\n[ "$4" = "api://relay x" ] && echo entra-token-123 || exit 3\n');
  chmodSync(join(bin, 'az'), 0o755);
});
afterAll(async () => {
  await relay.close();
  rmSync(bin, { recursive: true, force: true });
});

async function helper(audience: string | undefined) {
  const command = otelHeadersHelperCommand({ relayUrl: relay.url, agent: 'claude-code', audience });
  return run('sh', ['-c', command], { env: { PATH: `${bin}:${process.env.PATH}` } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

describe('otelHeadersHelperCommand', () => {
  it("prints the relay's headers object, having sent the user's Entra token from the Azure CLI", async () => {
    status = 200;
    const result = await helper('api://relay x');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ Authorization: 'Bearer a.b.c' });
    const request = relay.requests.at(-1)!;
    expect(request).toMatchObject({ method: 'POST', url: '/api/credential?agent=claude-code' });
    expect(request.headers.authorization).toBe('Bearer entra-token-123');
  });

  it('sends no token without an audience (local mode)', async () => {
    status = 200;
    expect((await helper(undefined)).code).toBe(0);
    expect(relay.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it("exits 1 with the relay's own message on a refusal, printing nothing Claude Code would take for headers", async () => {
    status = 401;
    const result = await helper('api://relay x');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('coding-agent-relay: POST /api/credential answered 401:');
    expect(result.stderr).toContain('access token expired');
  });

  it('exits 1 naming az login when the Azure CLI gives no token', async () => {
    const result = await helper('api://other');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('coding-agent-relay: no Entra token for api://other: run az login');
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
// Named by URL: the scratch folder the tools run in has no node_modules to find tsx in.
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/*
 * The command-line tools as a user meets them: each entry point run as its own process (through tsx,
 * from a scratch folder, so no local.settings.json of the working tree applies), with a clean
 * environment. What they print on --help, on a bad option and on a busy port.
 */
const TOOLS = [
  ['npm start', 'shared/local/main.ts'],
  ['npm run credential', 'shared/cli/issue-credential.ts'],
  ['npm run usage', 'shared/cli/usage.ts'],
  ['npm run uc:init', 'shared/cli/uc-init.ts'],
  ['npm run dashboard', 'shared/cli/dashboard.ts'],
  ['npm run sql', 'shared/cli/sql.ts'],
] as const;

const dir = mkdtempSync(join(tmpdir(), 'clis-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(entry: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // A folder per run: the runs go in parallel, and each DuckDB file is one process's at a time.
  const cwd = mkdtempSync(join(dir, 'run-'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, entry), ...args], {
      cwd,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.concurrent('the command-line tools', () => {
  it.each(TOOLS)('%s -- --help prints its usage and exits 0', async (name, entry) => {
    const { code, stdout, stderr } = await run(entry, ['--help']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.split('\n')[0]).toContain(name);
  });

  it.each(TOOLS)('%s -- --no-such-option fails with one line naming it', async (_name, entry) => {
    const { code, stderr } = await run(entry, ['--no-such-option']);
    expect({ code, stderr }).toEqual({ code: 1, stderr: "Unknown option '--no-such-option' (see --help)\n" });
  });

  it('npm start on a busy port says which and what to do, in one line', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as net.AddressInfo;
    try {
      const { code, stderr } = await run('shared/local/main.ts', [], { LOCAL_PORT: String(port) });
      expect({ code, stderr: stderr.split('\n').filter((line) => !line.startsWith('{')) }).toEqual({ code: 1, stderr: [`port ${port} is in use: set LOCAL_PORT or stop the other process`, ''] });
    } finally {
      busy.close();
    }
  });

  it('a bad setting is its message, without a stack', async () => {
    const { code, stderr } = await run('shared/cli/usage.ts', [], { USAGE_WINDOW_DAYS: '99' });
    expect({ code, stderr }).toEqual({ code: 1, stderr: 'setting USAGE_WINDOW_DAYS: expected an integer from 1 to 31\n' });
  });

  it('npm run usage over many days prints a line per chunk, then the total', async () => {
    const { code, stdout, stderr } = await run('shared/cli/usage.ts', ['--from', '2026-01-01', '--to', '2026-03-10', '--chunk-days', '31']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.replace(/\d+ ms/g, 'N ms')).toBe(
      [
        '  2026-01-01..2026-01-31: 0 rows (N ms) [1/3]',
        '  2026-02-01..2026-03-03: 0 rows (N ms) [2/3]',
        '  2026-03-04..2026-03-10: 0 rows (N ms) [3/3]',
        'usage 2026-01-01..2026-03-10: 0 rows in dev.coding_agents.agents_usage_daily (N ms, duckdb, gateway usage from dev.ai_gateway.usage; 0 rows unpriced)',
        '',
      ].join('\n'),
    );
  });

  it('npm run sql with two queries, or both --json and --csv, says what is wrong', async () => {
    expect(await run('shared/cli/sql.ts', ['SELECT 1', 'SELECT 2'])).toMatchObject({ code: 1, stderr: 'expected one query in quotes, got 2 arguments (see --help)\n' });
    expect(await run('shared/cli/sql.ts', ['--json', '--csv', 'SELECT 1'])).toMatchObject({ code: 1, stderr: '--json and --csv: choose one\n' });
  });
});

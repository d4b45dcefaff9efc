import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** The shell block between the try-it markers in README.md. */
export function tryItBlock(readme: string): string {
  const section = /<!-- try-it:start.*?-->\s*```sh\n([\s\S]*?)```\s*<!-- try-it:end -->/.exec(readme);
  if (!section) throw new Error('README.md: no ```sh block between <!-- try-it:start --> and <!-- try-it:end -->');
  return section[1]!;
}

/**
 * The `#>` lines of a block: what it prints, in order. `...` in a line stands for any text; a line
 * that is only `...` is for the reader (more lines of the same). Spaces are compared collapsed.
 */
export function expectedLines(block: string): RegExp[] {
  const collapse = (line: string) => line.trim().replace(/\s+/g, ' ');
  return block
    .split('\n')
    .filter((line) => line.startsWith('#>'))
    .map((line) => collapse(line.slice(2)))
    .filter((line) => line !== '...')
    .map((line) => new RegExp(`^${line.split('...').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
}

/** The first expected line not found in order in the output, or undefined when all are. */
function firstMissing(output: string, expected: RegExp[]): RegExp | undefined {
  const lines = output.split('\n').map((line) => line.trim().replace(/\s+/g, ' '));
  let at = 0;
  for (const pattern of expected) {
    while (at < lines.length && !pattern.test(lines[at]!)) at++;
    if (at === lines.length) return pattern;
    at++;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/*
 * Runs the README's "Try it" block as a newcomer would, in a copy of the working tree as a fresh clone
 * has it (tracked and new files; no dist/, .local/ or local.settings.json), on a free port, and checks
 * that it prints what its `#>` lines say. The one line not run is `npm ci`: the copy shares this
 * working tree's node_modules (a symlink), which `npm ci` would delete.
 */
describe('the README "Try it" block', () => {
  const dir = mkdtempSync(join(tmpdir(), 'readme-try-it-'));
  let groupLeader: number | undefined;
  afterAll(() => {
    // The block leaves the relay running in the background (it says how to stop it): end its group.
    if (groupLeader) {
      try {
        process.kill(-groupLeader, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints what the README says it prints', async () => {
    const block = tryItBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    const expected = expectedLines(block);
    expect(expected.length).toBeGreaterThan(10);
    const [first, ...rest] = block.split('\n');
    expect(first).toMatch(/^npm ci\b/);

    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const file of files) {
      mkdirSync(join(dir, dirname(file)), { recursive: true });
      try {
        cpSync(join(ROOT, file), join(dir, file));
      } catch {
        // listed by git but deleted in the working tree
      }
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));

    const port = await freePort();
    const child = spawn('bash', ['-c', `exec 2>&1\n${rest.join('\n')}`], {
      cwd: dir,
      detached: true, // its own process group, so the relay it starts can be ended with it
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', LOCAL_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    groupLeader = child.pid;
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    expect(output).not.toMatch(/the relay did not start|curl: \(\d+\)|command not found/);
    const missing = firstMissing(output, expected);
    expect(missing, `missing ${missing} in:\n${output}`).toBeUndefined();
    expect(output).toContain(`dashboard: http://127.0.0.1:${port}/api/dashboard`);
    expect(code).toBe(0);
  }, 300_000);
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'build-if-stale.mjs');

describe('scripts/build-if-stale.mjs', () => {
  // A project whose build only counts how often it ran, and fails when told to.
  const dir = mkdtempSync(join(tmpdir(), 'build-if-stale-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'shared'));
  writeFileSync(join(dir, 'shared', 'a.ts'), 'export {};\n');
  const build = "node -e \"const fs = require('fs'); if (fs.existsSync('fail')) process.exit(3); fs.appendFileSync('builds', 'x'); console.log('compiled')\"";
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'p', private: true, scripts: { build } }));
  const builds = () => (existsSync(join(dir, 'builds')) ? readFileSync(join(dir, 'builds'), 'utf8').length : 0);
  const run = () => spawnSync(process.execPath, [SCRIPT], { cwd: dir, encoding: 'utf8' });
  // Saved now: after the last build started (a build's stamp is the time it started).
  const touch = (file: string) => utimesSync(join(dir, file), new Date(), new Date());

  it('builds the first time, saying so on stderr and keeping stdout for the command', () => {
    const first = run();
    expect(first.status).toBe(0);
    expect(first.stdout).toBe('');
    expect(first.stderr).toMatch(/^building\.\.\. \(first build, about 10 s\)$/m);
    expect(first.stderr).toMatch(/^compiled$/m);
    expect(builds()).toBe(1);
  });

  it('does nothing when no input changed since', () => {
    expect(run()).toMatchObject({ status: 0, stdout: '', stderr: '' });
    expect(builds()).toBe(1);
  });

  it('builds again when a source is newer than the last build', () => {
    touch('shared/a.ts');
    const again = run();
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/^building\.\.\. \(sources changed since the last build\)$/m);
    expect(builds()).toBe(2);
    expect(run().stderr).toBe('');
  });

  it('fails with the build, and tries again next time', () => {
    writeFileSync(join(dir, 'fail'), '');
    touch('package.json');
    const failed = run();
    expect(failed.status).toBe(3);
    expect(failed.stderr).toMatch(/^build failed \(exit 3\): fix the errors above, or run npm run build$/m);
    rmSync(join(dir, 'fail'));
    expect(run().status).toBe(0);
    expect(builds()).toBe(3);
  });
});

// Run by the npm scripts that start something from dist/ (start, credential, usage, sql...): builds
// only when a build input changed since the last build this script made, so a CLI answers at once
// when dist/ is current. The stamp's time is when that build started: a file saved during the build
// counts as changed next time. `npm run build` always builds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STAMP = 'dist/.build-stamp';
// What the build reads: sources, the page, the bundler script, compiler options and the dependencies.
const INPUTS = ['functions', 'shared', 'scripts/bundle.mjs', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'node_modules/.package-lock.json'];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), stat.mtimeMs);
}

const stamp = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
const changed = INPUTS.reduce((newest, path) => Math.max(newest, newestMtime(path)), 0);
if (stamp >= changed) process.exit(0);

const started = Date.now();
console.error(stamp === 0 ? 'building... (first build, about 10 s)' : 'building... (sources changed since the last build)');
// The build's own output goes to stderr: stdout belongs to the command (a credential, query rows).
const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 2, 2], shell: process.platform === 'win32' });
if (build.status !== 0) {
  console.error(`build failed (exit ${build.status ?? build.signal}): fix the errors above, or run npm run build`);
  process.exit(build.status || 1);
}
mkdirSync('dist', { recursive: true });
writeFileSync(STAMP, '');
utimesSync(STAMP, started / 1000, started / 1000);
console.error(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { dashboardPagePath } from './handle-dashboard.js';

/*
 * Builds the dashboard into one HTML file: page/main.ts bundled with Chart.js (from npm) by esbuild,
 * page/style.css, both inline in page/index.html. Run by `npm run build`; no CDN, works offline.
 */

const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'page');

export async function buildDashboardPage(outFile = dashboardPagePath()): Promise<string> {
  const bundle = await build({
    entryPoints: [join(PAGE_DIR, 'main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    write: false,
    // Escapes any "</script" inside the bundle, so it can sit in an inline <script>.
    supported: { 'inline-script': false },
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]!.text.trim();
  const html = readFileSync(join(PAGE_DIR, 'index.html'), 'utf8')
    .replace('/* STYLE */', () => readFileSync(join(PAGE_DIR, 'style.css'), 'utf8').trim())
    .replace('/* SCRIPT */', () => script);
  mkdirSync(dirname(outFile), { recursive: true });
  // Written aside and renamed: parallel builds (test workers) never expose a half-written page.
  const temporary = `${outFile}.${process.pid}.tmp`;
  writeFileSync(temporary, html);
  renameSync(temporary, outFile);
  return outFile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = await buildDashboardPage();
  console.log(`dashboard page: ${file}`);
}

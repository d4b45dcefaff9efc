// The upload for Azure: functions/*.ts and everything they import, bundled by esbuild into
// dist/azure/ (entries) and dist/azure/chunks/ (code loaded on demand: usage roll-up, local mode,
// the Azure Monitor exporter). Nothing from node_modules is needed beside it, except what never runs
// in Azure (DuckDB's native module: local mode only) and the worker's own @azure/functions-core.
// @databricks/sql's optional native parts are left out too: it loads lz4-napi only if present (without
// it, results come uncompressed) and its native SQL kernel only when asked to (the roll-up does not).
// One file is read as text at run time rather than imported: smol-toml's CommonJS build and licence,
// which install.sh ships to the user (shared/agents/install-script.ts). They are copied into
// dist/azure/node_modules/smol-toml/, where Node's resolution from the bundle's chunks finds them.
import { build } from 'esbuild';
import { cpSync, readdirSync, rmSync } from 'node:fs';

const outdir = 'dist/azure';
const optionalNative = {
  name: 'optional-native',
  setup(b) {
    b.onResolve({ filter: /^lz4-napi$|\/native\/kernel$/ }, (args) => ({ path: args.path, external: true }));
  },
};
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: readdirSync('functions').filter((f) => f.endsWith('.ts')).map((f) => `functions/${f}`),
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@azure/functions-core', '@duckdb/node-api'],
  // CommonJS dependencies call require() for Node built-ins and read __dirname; an ES module has neither.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      'const require = __createRequire(import.meta.url);',
      'const __bundleFilename = __fileURLToPath(import.meta.url);',
      "const __bundleDirname = __bundleFilename.slice(0, __bundleFilename.lastIndexOf('/'));",
    ].join(' '),
  },
  // Only free uses are replaced: a bundled module that declares its own __dirname keeps it.
  define: { __filename: '__bundleFilename', __dirname: '__bundleDirname' },
  plugins: [optionalNative],
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
});

for (const file of ['package.json', 'LICENSE', 'dist/index.cjs']) {
  cpSync(`node_modules/smol-toml/${file}`, `${outdir}/node_modules/smol-toml/${file}`);
}

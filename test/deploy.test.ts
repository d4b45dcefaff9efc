import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ignore from 'ignore';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSettings, type Env } from '../shared/settings.js';
import { DEAD_LETTER_CONTAINER, SPOOL_CONTAINER } from '../shared/spool/index.js';

/*
 * Checks that keep the deployment story true: every setting the code reads is declared in infra/ and
 * documented in docs/settings.md (and infra/ sets nothing the code does not read), and what
 * `func azure functionapp publish` would upload (the folder filtered by .funcignore) is the compiled
 * app without tests, sources or local settings.
 */

const ROOT = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/**
 * Local mode only (no meaning in Azure), or set by the platform itself. AzureWebJobsStorage as a
 * connection string is for local runs; in Azure the app connects with its identity (api.bicep).
 */
const NOT_FOR_AZURE = new Set(['LOCAL_PORT', 'LOCAL_DUCKDB_PATH', 'LOCAL_USER_ID', 'LOCAL_USER_EMAIL', 'WEBSITE_HOSTNAME', 'AzureWebJobsStorage', 'RELAY_SPOOL_REPLAY_INTERVAL_SECONDS']);
/** App settings the platform needs rather than the code. */
const PLATFORM = /^(AzureWebJobsStorage__\w+|APPLICATIONINSIGHTS_\w+|languageWorkers__node__arguments)$/;

/** Every setting loadSettings reads, found by handing it environments that record each lookup. */
function settingsTheCodeReads(): Set<string> {
  const seen = new Set<string>();
  const recording = (values: Env) =>
    new Proxy(values, {
      get(target, key) {
        if (typeof key === 'string') seen.add(key);
        return target[key as string];
      },
    });
  const databricks = { DATABRICKS_HOST: 'https://adb-1.azuredatabricks.net', UC_CATALOG: 'c', UC_SCHEMA: 's', UC_TABLE_PREFIX: 'p' };
  loadSettings(recording({}));
  loadSettings(recording({ ...databricks, ENTRA_TENANT_ID: 't', ENTRA_AUDIENCE: 'a', DATABRICKS_WAREHOUSE_HTTP_PATH: '/sql/1.0/warehouses/x' }));
  loadSettings(recording({ ...databricks, ENTRA_ISSUER: 'https://idp.example', ENTRA_AUDIENCE: 'a', ENTRA_JWKS_URL: 'https://idp.example/keys' }));
  for (const file of readdirSync(join(ROOT, 'functions'))) {
    for (const m of read(join('functions', file)).matchAll(/process\.env\.([A-Z_]+)/g)) seen.add(m[1]!);
  }
  return seen;
}

/** The keys of the settings object main.bicep hands the app, and those api.bicep adds. */
function settingsInInfra(): Set<string> {
  const keys = new Set<string>();
  const main = read('infra/main.bicep');
  const block = main.slice(main.indexOf('var relaySettings = {'), main.indexOf('}', main.indexOf('var relaySettings = {')));
  for (const m of block.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)) keys.add(m[1]!);
  for (const m of read('infra/app/api.bicep').matchAll(/^\s+([A-Za-z][A-Za-z0-9_]+):\s/gm)) if (PLATFORM.test(m[1]!)) keys.add(m[1]!);
  return keys;
}

describe('settings', () => {
  const read_ = settingsTheCodeReads();
  const infra = settingsInInfra();

  it('finds the settings the code reads', () => {
    expect(read_.size).toBeGreaterThan(40);
    expect(read_).toContain('DATABRICKS_HOST');
    expect(read_).toContain('USAGE_SCHEDULE');
  });

  it('declares every setting the code reads in infra/', () => {
    const missing = [...read_].filter((name) => !NOT_FOR_AZURE.has(name) && !infra.has(name));
    expect(missing).toEqual([]);
  });

  it('sets nothing in infra/ that the code does not read', () => {
    const unused = [...infra].filter((name) => !read_.has(name) && !PLATFORM.test(name));
    expect(unused).toEqual([]);
  });

  it('runs the Functions worker with the Node flags `npm start` uses, and documents them', () => {
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start!;
    const flags = /node ((?:--\S+ )*)dist\//.exec(start)![1]!.trim();
    expect(flags).not.toBe('');
    expect(read('infra/app/api.bicep')).toContain(`languageWorkers__node__arguments: '${flags}'`);
    expect(read('docs/settings.md')).toContain(`\`languageWorkers__node__arguments\``);
  });

  it('documents every setting in docs/settings.md', () => {
    const table = read('docs/settings.md').split('\n## ')[0]!;
    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    const documented = new Set(rows.flatMap((row) => [...row.split(' | ')[0]!.matchAll(/`([A-Za-z][A-Za-z0-9_]+)`/g)].map((m) => m[1]!)));
    const undocumented = [...read_].filter((name) => !documented.has(name));
    expect(undocumented).toEqual([]);
  });

  it('states in docs/settings.md the defaults the code applies', () => {
    // A documented default is right when setting it explicitly changes nothing in what loadSettings returns.
    const base = { DATABRICKS_HOST: 'https://adb-1.azuredatabricks.net', UC_CATALOG: 'c', UC_SCHEMA: 's', UC_TABLE_PREFIX: 'p' };
    const table = read('docs/settings.md').split('\n## ')[0]!;
    const checked: string[] = [];
    for (const row of table.split('\n').filter((line) => line.startsWith('| `'))) {
      const [names, defaults] = row.split(' | ').map((cell) => cell.replace(/^\| /, ''));
      if (!defaults!.startsWith('`')) continue; // "unset", "required ...", "set by ...": no literal default
      const settingNames = [...names!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!);
      const values = [...defaults!.split(';')[0]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace('${DATABRICKS_HOST}', base.DATABRICKS_HOST));
      expect(values.length, row).toBe(settingNames.length);
      settingNames.forEach((name, i) => {
        expect(loadSettings({ ...base, [name]: values[i] }), `${name} = ${values[i]}`).toEqual(loadSettings(base));
        checked.push(name);
      });
    }
    expect(checked.length).toBeGreaterThan(35);
  });

  it('keeps every setting default in the code alone: settings parameters in main.bicep have none', () => {
    const main = read('infra/main.bicep');
    const block = main.slice(main.indexOf('var relaySettings = {'), main.indexOf('}', main.indexOf('var relaySettings = {')));
    const feeding = new Set([...block.matchAll(/^\s+[A-Z][A-Z0-9_]+: (\w+)$/gm)].map((m) => m[1]!));
    // Infrastructure facts rather than code defaults: the deployment's tenant.
    const withDefaults = [...main.matchAll(/^param (\w+) \w+ = /gm)].map((m) => m[1]!).filter((p) => feeding.has(p) && p !== 'entraTenantId');
    expect(withDefaults).toEqual([]);
    expect(feeding.size).toBeGreaterThan(40);
  });

  it('passes empty setting values through to the app (only parameters left out are dropped)', () => {
    const main = read('infra/main.bicep');
    expect(main).toContain('filter(items(relaySettings), setting => setting.value != null)');
    expect(main).not.toMatch(/!empty\(setting\.value\)/);
  });

  it('uses every parameter main.bicep declares', () => {
    const main = read('infra/main.bicep');
    const params = [...main.matchAll(/^param (\w+)/gm)].map((m) => m[1]!);
    const unused = params.filter((p) => main.split(new RegExp(`\\b${p}\\b`)).length < 3);
    expect(unused).toEqual([]);
  });

  it('passes a value for every parameter main.parameters.json names', () => {
    const main = read('infra/main.bicep');
    const declared = new Set([...main.matchAll(/^param (\w+)/gm)].map((m) => m[1]!));
    const given = Object.keys((JSON.parse(read('infra/main.parameters.json')) as { parameters: object }).parameters);
    expect(given.filter((name) => !declared.has(name))).toEqual([]);
  });
});

describe('infra/', () => {
  const bicepFiles = ['infra/main.bicep', ...readdirSync(join(ROOT, 'infra/app')).map((f) => `infra/app/${f}`)];
  const bicep = bicepFiles.map(read).join('\n');

  // Resource types and API versions whose property names were checked against Microsoft's published
  // samples (Azure-Samples/functions-quickstart-*-azd: infra/main.bicep, infra/app/api.bicep,
  // infra/core/host/functions-flexconsumption.bicep, infra/core/storage/storage-account.bicep) and the
  // Key Vault RBAC pattern. A new type or version needs the same check before it is added here.
  const CHECKED = new Set([
    'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31',
    'Microsoft.Storage/storageAccounts@2023-05-01',
    'Microsoft.OperationalInsights/workspaces@2023-09-01',
    'Microsoft.Insights/components@2020-02-02',
    'Microsoft.KeyVault/vaults@2023-07-01',
    'Microsoft.Authorization/roleAssignments@2022-04-01',
    'Microsoft.Web/serverfarms@2023-12-01',
    'Microsoft.Web/sites@2023-12-01',
  ]);

  it('uses only resource types checked against Microsoft samples', () => {
    const used = [...bicep.matchAll(/^resource \w+ '([^']+)'/gm)].map((m) => m[1]!);
    expect(used.filter((t) => !CHECKED.has(t))).toEqual([]);
  });

  it('keeps least privilege and transport security', () => {
    expect(bicep).toContain('allowSharedKeyAccess: false');
    expect(bicep).toContain('enableRbacAuthorization: true');
    expect(bicep).toContain('DisableLocalAuth: true');
    expect(bicep).toContain('httpsOnly: true');
    expect(bicep).toContain("minTlsVersion: '1.2'");
    expect(bicep).toContain("minimumTlsVersion: 'TLS1_2'");
    expect(bicep).toContain("ftpsState: 'Disabled'");
    const roles = [...read('infra/app/rbac.bicep').matchAll(/var \w+ = '([0-9a-f-]{36})' \/\/ (.+)$/gm)].map((m) => m[2]);
    expect(roles).toEqual(['Storage Blob Data Owner', 'Monitoring Metrics Publisher', 'Key Vault Secrets User', 'Key Vault Secrets Officer']);
    expect(bicep).not.toMatch(/Contributor'|Owner'\s*$/m);
  });

  it('creates the spool containers the code uses', () => {
    const storage = read('infra/app/storage.bicep');
    expect(storage).toContain(`name: '${SPOOL_CONTAINER}'`);
    expect(storage).toContain(`name: '${DEAD_LETTER_CONTAINER}'`);
  });

  it('passes secret names, never secret values', () => {
    expect(bicep).not.toMatch(/@secure\(\)/);
    expect(bicep).not.toMatch(/Microsoft\.KeyVault\/vaults\/secrets/);
  });

  it('pins the Node.js version in one place that the engines range allows', () => {
    const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; azureFunctions: { nodeVersion: string } };
    expect(read('infra/main.bicep')).toContain("loadJsonContent('../package.json').azureFunctions.nodeVersion");
    expect(['20', '22']).toContain(pkg.azureFunctions.nodeVersion);
    const [, min, max] = /^>=(\d+) <(\d+)$/.exec(pkg.engines.node)!;
    expect(Number(pkg.azureFunctions.nodeVersion)).toBeGreaterThanOrEqual(Number(min));
    expect(Number(pkg.azureFunctions.nodeVersion)).toBeLessThan(Number(max));
  });
});

describe('what func azure functionapp publish uploads', () => {
  let published: string[];
  const funcignore = ignore().add(read('.funcignore'));

  function walk(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      const rel = relative(ROOT, path);
      if (rel === '.git' || rel === 'node_modules') return [];
      return statSync(path).isDirectory() ? walk(path) : [rel];
    });
  }

  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs')], { cwd: ROOT });
    published = funcignore.filter(walk(ROOT));
  }, 120_000);

  it('contains the bundled entry point of every function, as package.json main names them', () => {
    const main = (JSON.parse(read('package.json')) as { main: string }).main;
    expect(main).toBe('dist/azure/*.js');
    const functions = readdirSync(join(ROOT, 'functions')).map((f) => `dist/azure/${f.replace(/\.ts$/, '.js')}`);
    for (const entry of functions) expect(published, entry).toContain(entry);
    expect(published.filter((f) => /^dist\/azure\/[^/]+\.js$/.test(f)).sort()).toEqual(functions.sort());
  });

  it('contains host.json, package.json, the dashboard page and the SQL the app reads, and nothing from node_modules', () => {
    for (const file of ['host.json', 'package.json', 'infra/sql/otel_metrics.sql', 'infra/sql/usage_daily_rollup.sql', 'dist/dashboard/dashboard.html']) expect(published).toContain(file);
    expect(funcignore.ignores('node_modules/@azure/functions/package.json')).toBe(true);
    expect(funcignore.ignores('node_modules/@duckdb/node-api/package.json')).toBe(true);
  });

  it("holds the smol-toml build install.sh ships, where the bundle's chunks resolve it", () => {
    for (const file of ['package.json', 'LICENSE', 'dist/index.cjs']) expect(published).toContain(`dist/azure/node_modules/smol-toml/${file}`);
    const fromChunk = createRequire(join(ROOT, 'dist/azure/chunks/any.js')).resolve('smol-toml');
    expect(fromChunk).toBe(join(ROOT, 'dist/azure/node_modules/smol-toml/dist/index.cjs'));
  });

  it('leaves out tests, sources, the unbundled build, local settings and local state', () => {
    expect(published.filter((f) => !f.startsWith('dist/azure/') && !f.startsWith('infra/sql/') && f !== 'dist/dashboard/dashboard.html' && f !== 'host.json' && f !== 'package.json')).toEqual([]);
    expect(published.filter((f) => f.endsWith('.ts') || f.endsWith('.map'))).toEqual([]);
    for (const file of ['local.settings.json', '.local/telemetry.duckdb', 'tsconfig.json', '.ci/run', 'dist/shared/app.js', 'infra/main.bicep']) {
      expect(funcignore.ignores(file), file).toBe(true);
    }
  });

  it('stays within 15 MB', () => {
    const bytes = published.reduce((n, f) => n + statSync(join(ROOT, f)).size, 0);
    expect(bytes).toBeLessThanOrEqual(15 * 1024 * 1024);
  });
});

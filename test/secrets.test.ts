import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  environmentSource,
  environmentVariableFor,
  keyVaultSource,
  SecretCache,
  SecretNotFoundError,
  SecretUnavailableError,
  type SecretSource,
} from '../shared/secrets.js';
import { fakeKeyVault, staticCredential, type FakeKeyVault } from './fakes/key-vault.js';

/** A source whose reads the test resolves or rejects by hand. */
function manualSource() {
  const pending: { resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  const source: SecretSource = {
    kind: 'environment',
    read: () => new Promise((resolve, reject) => pending.push({ resolve, reject })),
  };
  return { source, pending };
}

describe('SecretCache', () => {
  it('serves from memory within the TTL and refetches after it', async () => {
    let now = 0;
    let reads = 0;
    const cache = new SecretCache({ kind: 'environment', read: async () => `v${++reads}` }, { ttlMs: 1000, maxStaleMs: 0, now: () => now });
    expect(await cache.get('s')).toBe('v1');
    now = 999;
    expect(await cache.get('s')).toBe('v1');
    now = 1000;
    expect(await cache.get('s')).toBe('v2');
    expect(cache.fetches).toBe(2);
  });

  it('shares one fetch among concurrent readers', async () => {
    const { source, pending } = manualSource();
    const cache = new SecretCache(source, { ttlMs: 1000, maxStaleMs: 0 });
    const reads = [cache.get('s'), cache.get('s'), cache.get('s')];
    expect(pending).toHaveLength(1);
    pending[0]!.resolve('value');
    expect(await Promise.all(reads)).toEqual(['value', 'value', 'value']);
  });

  it('serves a stale value while the source fails, then gives up after maxStale', async () => {
    let now = 0;
    let fail = false;
    const warnings: string[] = [];
    const source: SecretSource = {
      kind: 'key-vault',
      read: async () => {
        if (fail) throw new SecretUnavailableError('vault down');
        return 'good';
      },
    };
    const cache = new SecretCache(source, { ttlMs: 1000, maxStaleMs: 10_000, now: () => now, warn: (m) => warnings.push(m) });
    expect(await cache.get('s')).toBe('good');
    fail = true;
    now = 2000;
    expect(await cache.get('s')).toBe('good');
    expect(warnings[0]).toContain('vault down');
    expect(warnings[0]).not.toContain('good');
    now = 3000; // within the retry pause: no new read
    const fetches = cache.fetches;
    expect(await cache.get('s')).toBe('good');
    expect(cache.fetches).toBe(fetches);
    now = 11_001;
    await expect(cache.get('s')).rejects.toThrow('vault down');
  });

  it('drops a value on invalidate so the next read fetches again', async () => {
    let reads = 0;
    const cache = new SecretCache({ kind: 'environment', read: async () => `v${++reads}` }, { ttlMs: 60_000, maxStaleMs: 0 });
    expect(await cache.get('s')).toBe('v1');
    cache.invalidate('s');
    expect(await cache.get('s')).toBe('v2');
  });
});

describe('environmentSource', () => {
  it('reads secret databricks-token from DATABRICKS_TOKEN', async () => {
    expect(environmentVariableFor('databricks-client-secret')).toBe('DATABRICKS_CLIENT_SECRET');
    expect(await environmentSource({ DATABRICKS_TOKEN: 'dapi1' }).read('databricks-token')).toBe('dapi1');
  });

  it('names the variable to set when a secret is missing', async () => {
    await expect(environmentSource({}).read('databricks-token')).rejects.toThrow('secret "databricks-token" is not set: define environment variable DATABRICKS_TOKEN');
  });
});

describe('keyVaultSource with the real SecretClient', () => {
  let vault: FakeKeyVault;
  beforeEach(async () => {
    vault = await fakeKeyVault({ 'databricks-token': 'dapi-from-vault' });
  });
  afterEach(() => vault.close());

  it('reads a secret through the bearer challenge', async () => {
    expect(await keyVaultSource(vault.url, staticCredential).read('databricks-token')).toBe('dapi-from-vault');
  });

  it('reports a missing secret as not found', async () => {
    await expect(keyVaultSource(vault.url, staticCredential).read('nope')).rejects.toThrow(SecretNotFoundError);
  });

  it('reports an outage without any secret value in the message', async () => {
    vault.failWith = 503;
    const error = await keyVaultSource(vault.url, staticCredential).read('databricks-token').catch((e: Error) => e);
    expect(error).toBeInstanceOf(SecretUnavailableError);
    expect((error as Error).message).toBe('cannot read secret "databricks-token" from Key Vault (503)');
  });

  it('fetches once per TTL under concurrent load and picks up a rotated value after invalidate', async () => {
    const cache = new SecretCache(keyVaultSource(vault.url, staticCredential), { ttlMs: 60_000, maxStaleMs: 0 });
    const values = await Promise.all(Array.from({ length: 50 }, () => cache.get('databricks-token')));
    expect(new Set(values)).toEqual(new Set(['dapi-from-vault']));
    expect(vault.reads()).toBe(1);
    vault.secrets.set('databricks-token', 'rotated');
    cache.invalidate('databricks-token');
    expect(await cache.get('databricks-token')).toBe('rotated');
    expect(vault.reads()).toBe(2);
  });

  it('bridges a vault outage with the cached value', async () => {
    let now = 0;
    const cache = new SecretCache(keyVaultSource(vault.url, staticCredential), { ttlMs: 1000, maxStaleMs: 60_000, now: () => now });
    expect(await cache.get('databricks-token')).toBe('dapi-from-vault');
    vault.failWith = 503;
    now = 5000;
    expect(await cache.get('databricks-token')).toBe('dapi-from-vault');
  });
});

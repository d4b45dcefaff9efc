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
    const cache = new SecretCache({ kind: 'environment', read: async () => `v${++reads}` }, { ttlMs: 1000, maxStaleMs: 0, timeoutMs: 1000, now: () => now });
    expect(await cache.get('s')).toBe('v1');
    now = 999;
    expect(await cache.get('s')).toBe('v1');
    now = 1000;
    expect(await cache.get('s')).toBe('v2');
    expect(cache.fetches).toBe(2);
  });

  it('shares one fetch among concurrent readers', async () => {
    const { source, pending } = manualSource();
    const cache = new SecretCache(source, { ttlMs: 1000, maxStaleMs: 0, timeoutMs: 1000 });
    const reads = [cache.get('s'), cache.get('s'), cache.get('s')];
    expect(pending).toHaveLength(1);
    pending[0]!.resolve('value');
    expect(await Promise.all(reads)).toEqual(['value', 'value', 'value']);
  });

  it('serves a stale value at once while refreshing, and past the TTL while the source fails, then gives up after maxStale', async () => {
    let now = 0;
    let fail = false;
    const warnings: string[] = [];
    let reads = 0;
    const source: SecretSource = {
      kind: 'key-vault',
      read: async () => {
        reads++;
        if (fail) throw new SecretUnavailableError('vault down');
        return `good${reads}`;
      },
    };
    const cache = new SecretCache(source, { ttlMs: 1000, maxStaleMs: 10_000, timeoutMs: 1000, now: () => now, warn: (m) => warnings.push(m) });
    expect(await cache.get('s')).toBe('good1');
    now = 1500; // past the TTL: the cached value now, the fresh one once the background read is done
    expect(await cache.get('s')).toBe('good1');
    await new Promise((r) => setImmediate(r));
    expect(await cache.get('s')).toBe('good2');
    fail = true;
    now = 3000;
    expect(await cache.get('s')).toBe('good2');
    await new Promise((r) => setImmediate(r));
    expect(warnings[0]).toContain('vault down');
    expect(warnings[0]).not.toContain('good');
    now = 3500; // within the backoff after the failure: no new read
    expect(await cache.get('s')).toBe('good2');
    expect(reads).toBe(3);
    now = 4001; // backoff over: read again (fails), the value is still served
    expect(await cache.get('s')).toBe('good2');
    expect(reads).toBe(4);
    now = 12_501; // good2 was read at 1500: TTL and maxStale are over
    await expect(cache.get('s')).rejects.toThrow('vault down');
  });

  it('repeats a failed read to callers without a value until the backoff is over', async () => {
    let now = 0;
    let reads = 0;
    const cache = new SecretCache(
      { kind: 'key-vault', read: async () => (++reads, Promise.reject(new SecretUnavailableError('vault down'))) },
      { ttlMs: 1000, maxStaleMs: 0, timeoutMs: 1000, now: () => now },
    );
    await expect(cache.get('s')).rejects.toThrow('vault down');
    await expect(cache.get('s')).rejects.toThrow('vault down');
    expect(reads).toBe(1);
    now = 1000;
    await expect(cache.get('s')).rejects.toThrow('vault down');
    expect(reads).toBe(2);
    now = 2999; // the second failure doubled the pause to 2 s
    await expect(cache.get('s')).rejects.toThrow('vault down');
    expect(reads).toBe(2);
  });

  it('releases every waiter when a read does not answer within the timeout', async () => {
    const { source } = manualSource();
    const cache = new SecretCache(source, { ttlMs: 1000, maxStaleMs: 0, timeoutMs: 50 });
    const started = Date.now();
    const results = await Promise.allSettled([cache.get('s'), cache.get('s')]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toContain('no answer within 50 ms');
  });

  it('drops a value on invalidate so the next read fetches again', async () => {
    let reads = 0;
    const cache = new SecretCache({ kind: 'environment', read: async () => `v${++reads}` }, { ttlMs: 60_000, maxStaleMs: 0, timeoutMs: 1000 });
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
    const cache = new SecretCache(keyVaultSource(vault.url, staticCredential), { ttlMs: 60_000, maxStaleMs: 0, timeoutMs: 1000 });
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
    const cache = new SecretCache(keyVaultSource(vault.url, staticCredential), { ttlMs: 1000, maxStaleMs: 60_000, timeoutMs: 1000, now: () => now });
    expect(await cache.get('databricks-token')).toBe('dapi-from-vault');
    vault.failWith = 503;
    now = 5000;
    expect(await cache.get('databricks-token')).toBe('dapi-from-vault');
  });

  it('answers from the cache within the vault timeout while the vault hangs, and recovers by itself', async () => {
    const timeoutMs = 300;
    const cache = new SecretCache(keyVaultSource(vault.url, staticCredential), { ttlMs: 50, maxStaleMs: 60_000, timeoutMs });
    expect(await cache.get('databricks-token')).toBe('dapi-from-vault');
    vault.hang = true;
    await new Promise((r) => setTimeout(r, 60)); // past the TTL
    // 80 concurrent reads of a secret the process has: all answered at once, with the cached value.
    let started = Date.now();
    const values = await Promise.all(Array.from({ length: 80 }, () => cache.get('databricks-token')));
    expect(Date.now() - started).toBeLessThan(timeoutMs);
    expect(new Set(values)).toEqual(new Set(['dapi-from-vault']));
    // A secret it does not have: refused once the vault timeout passes, not held forever.
    started = Date.now();
    await expect(cache.get('relay-signing-key')).rejects.toThrow(SecretUnavailableError);
    expect(Date.now() - started).toBeLessThan(timeoutMs + 500);
    // The vault answers again: the next refresh after the backoff picks up a rotated value, no restart.
    vault.hang = false;
    vault.secrets.set('databricks-token', 'rotated');
    const deadline = Date.now() + 5000;
    let value = await cache.get('databricks-token');
    while (value !== 'rotated' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      value = await cache.get('databricks-token');
    }
    expect(value).toBe('rotated');
  }, 10_000);
});

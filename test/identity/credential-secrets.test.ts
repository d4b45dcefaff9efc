import { describe, expect, it } from 'vitest';
import { credentialSecrets } from '../../shared/identity/credential-secrets.js';
import { SecretCache, SecretNotFoundError, type SecretSource } from '../../shared/secrets.js';
import { TEST_SIGNING_KEY } from '../credentials.js';

const names = { signingKey: 'relay-signing-key', previousSigningKey: 'relay-signing-key-previous', revoked: 'relay-revoked' };

function vault(values: Record<string, string>) {
  const source: SecretSource = {
    kind: 'environment',
    read: async (name) => {
      if (values[name] === undefined) throw new SecretNotFoundError(`no ${name}`);
      return values[name]!;
    },
  };
  const cache = new SecretCache(source, { ttlMs: 60_000, maxStaleMs: 0, timeoutMs: 1000 });
  return { values, cache };
}

describe('credentialSecrets', () => {
  it('returns the same key set while the secrets stay the same, a new one after a rotation', async () => {
    const { values, cache } = vault({ 'relay-signing-key': TEST_SIGNING_KEY });
    const secrets = credentialSecrets(cache, names);
    const first = await secrets.keys();
    expect(first.previous).toBeUndefined();
    expect(await secrets.keys()).toBe(first);
    values['relay-signing-key-previous'] = TEST_SIGNING_KEY;
    values['relay-signing-key'] = 'a-brand-new-signing-key-0123456789abcdef0123';
    cache.invalidate('relay-signing-key');
    cache.invalidate('relay-signing-key-previous');
    const rotated = await secrets.keys();
    expect(rotated).not.toBe(first);
    expect(rotated.previous?.kid).toBe(first.current.kid);
    expect(rotated.current.kid).not.toBe(first.current.kid);
  });

  it('reads a missing revocation list as nothing revoked', async () => {
    const { cache } = vault({ 'relay-signing-key': TEST_SIGNING_KEY });
    const revocations = await credentialSecrets(cache, names).revocations();
    expect([...revocations.credentialIds, ...revocations.users]).toEqual([]);
  });
});

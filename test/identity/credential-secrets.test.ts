import { describe, expect, it } from 'vitest';
import { credentialSecrets } from '../../shared/identity/credential-secrets.js';
import { CredentialVerifier, issueCredential } from '../../shared/identity/relay-credentials.js';
import { SecretCache, SecretNotFoundError, type SecretSource } from '../../shared/secrets.js';
import { ALICE, TEST_SIGNING_KEY } from '../credentials.js';

const names = { signingKey: 'relay-signing-key', previousSigningKey: 'relay-signing-key-previous', revoked: 'relay-revoked' };

function vault(values: Record<string, string>, now = () => Date.now()) {
  const source: SecretSource = {
    kind: 'environment',
    read: async (name) => {
      if (values[name] === undefined) throw new SecretNotFoundError(`no ${name}`);
      return values[name]!;
    },
  };
  const cache = new SecretCache(source, { ttlMs: 60_000, maxStaleMs: 0, timeoutMs: 1000, now });
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

  it('answers a known credential from memory while the secrets are held, and revocation, expiry and rotation still apply', async () => {
    let clock = Date.now();
    const { values, cache } = vault({ 'relay-signing-key': TEST_SIGNING_KEY, 'relay-revoked': '' }, () => clock);
    const secrets = credentialSecrets(cache, names);
    const verifier = new CredentialVerifier({ ...secrets, now: () => clock });
    const keys = await secrets.keys();
    const { credential, caller } = await issueCredential(keys, { ...ALICE, agent: 'codex', ttlSeconds: 3600, now: clock });
    const header = `Bearer ${credential}`;
    expect(secrets.held()).toBeUndefined(); // the revocation list not read yet
    expect(await verifier.verify(header)).toEqual(caller);
    expect(secrets.held()?.keys).toBe(keys);
    expect(await verifier.verify(header)).toEqual(caller);
    expect(verifier.cache).toEqual({ hits: 1, misses: 1 });

    values['relay-revoked'] = caller.credentialId;
    cache.invalidate('relay-revoked');
    await secrets.revocations(); // held again, now with the credential in it
    expect(secrets.held()?.revocations.credentialIds.has(caller.credentialId)).toBe(true);
    await expect(verifier.verify(header)).rejects.toThrow('credential revoked');
    values['relay-revoked'] = '';
    cache.invalidate('relay-revoked');
    expect(await verifier.verify(header)).toEqual(caller);

    // Past the TTL nothing is held: the secrets are read again (and the credential still verifies).
    clock += 61_000;
    expect(secrets.held()).toBeUndefined();
    expect(await verifier.verify(header)).toEqual(caller);

    values['relay-signing-key'] = 'a-brand-new-signing-key-0123456789abcdef0123';
    cache.invalidate('relay-signing-key');
    await expect(verifier.verify(header)).rejects.toThrow('credential signed with an unknown or retired key');

    values['relay-signing-key'] = TEST_SIGNING_KEY;
    cache.invalidate('relay-signing-key');
    await verifier.verify(header);
    clock = (caller.expiresAt + 120) * 1000;
    await secrets.keys();
    await secrets.revocations();
    await expect(verifier.verify(header)).rejects.toThrow('credential expired');
  });
});

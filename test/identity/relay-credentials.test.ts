import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  CredentialError,
  CredentialVerifier,
  issueCredential,
  parseRevocations,
  signingKey,
  type Revocations,
  type SigningKeys,
} from '../../shared/identity/relay-credentials.js';
import { ALICE, TEST_SIGNING_KEY } from '../credentials.js';

const KEY = signingKey(TEST_SIGNING_KEY);
const OLD_KEY = signingKey('previous-signing-key-0123456789abcdef01234567');
const NOBODY_REVOKED = parseRevocations('');

function verifier(keys: SigningKeys = { current: KEY }, revocations: Revocations = NOBODY_REVOKED, now = () => Date.now()) {
  return new CredentialVerifier({ keys: async () => keys, revocations: async () => revocations, now });
}

async function issue(keys: SigningKeys = { current: KEY }, ttlSeconds = 3600, now = Date.now()) {
  return issueCredential(keys, { ...ALICE, agent: 'codex', ttlSeconds, now });
}

describe('issueCredential + CredentialVerifier', () => {
  it('issues the same credential for the same user, agent and key within a UTC day', async () => {
    const day = Date.UTC(2026, 10, 22);
    const morning = await issueCredential({ current: KEY }, { ...ALICE, agent: 'codex', ttlSeconds: 86_400, now: day + 1000 });
    const evening = await issueCredential({ current: KEY }, { ...ALICE, agent: 'codex', ttlSeconds: 86_400, now: day + 86_000_000 });
    const tomorrow = await issueCredential({ current: KEY }, { ...ALICE, agent: 'codex', ttlSeconds: 86_400, now: day + 86_400_000 });
    const otherAgent = await issueCredential({ current: KEY }, { ...ALICE, agent: 'claude-code', ttlSeconds: 86_400, now: day + 1000 });
    expect(evening.credential).toBe(morning.credential);
    expect(tomorrow.credential).not.toBe(morning.credential);
    expect(otherAgent.caller.credentialId).not.toBe(morning.caller.credentialId);
    expect(morning.caller.expiresAt).toBe((day + 2 * 86_400_000) / 1000);
  });

  it('round-trips the identity, agent, id and expiry', async () => {
    const { credential, caller } = await issue();
    const verified = await verifier().verify(`Bearer ${credential}`);
    expect(verified).toEqual(caller);
    expect(verified).toMatchObject({ userId: ALICE.userId, email: ALICE.email, agent: 'codex' });
  });

  it('accepts credentials signed with the previous key during a rotation, and not after it', async () => {
    const { credential } = await issue({ current: OLD_KEY });
    await expect(verifier({ current: KEY, previous: OLD_KEY }).verify(`Bearer ${credential}`)).resolves.toMatchObject({ email: ALICE.email });
    await expect(verifier({ current: KEY }).verify(`Bearer ${credential}`)).rejects.toThrow('credential signed with an unknown or retired key');
  });

  it('re-checks a cached credential when the key set changes', async () => {
    const { credential } = await issue({ current: OLD_KEY });
    let keys: SigningKeys = { current: KEY, previous: OLD_KEY };
    const v = new CredentialVerifier({ keys: async () => keys, revocations: async () => NOBODY_REVOKED });
    await v.verify(`Bearer ${credential}`);
    keys = { current: KEY };
    await expect(v.verify(`Bearer ${credential}`)).rejects.toThrow('credential signed with an unknown or retired key');
  });

  it.each([
    ['no header', undefined, 'missing credential: send Authorization: Bearer <relay credential>'],
    ['another scheme', 'Basic YWxpY2U6cHc=', 'malformed credential: expected Authorization: Bearer <relay credential>'],
    ['not a JWT', 'Bearer abc', 'malformed credential: expected Authorization: Bearer <relay credential>'],
    ['garbage segments', 'Bearer aaa.bbb.ccc', 'malformed credential'],
  ])('refuses %s', async (_case, header, message) => {
    await expect(verifier().verify(header)).rejects.toThrow(new CredentialError(message, header !== undefined));
  });

  it('refuses an expired credential, also once cached', async () => {
    let now = Date.now();
    const { credential } = await issue({ current: KEY }, 600, now);
    const v = verifier({ current: KEY }, NOBODY_REVOKED, () => now);
    await v.verify(`Bearer ${credential}`);
    now += 2 * 86_400_000;
    await expect(v.verify(`Bearer ${credential}`)).rejects.toThrow('credential expired: fetch a new agent config');
    await expect(verifier({ current: KEY }, NOBODY_REVOKED, () => now).verify(`Bearer ${credential}`)).rejects.toThrow('credential expired');
  });

  it('refuses revoked credentials and users, also once cached', async () => {
    const { credential, caller } = await issue();
    let revocations = NOBODY_REVOKED;
    const v = new CredentialVerifier({ keys: async () => ({ current: KEY }), revocations: async () => revocations });
    await v.verify(`Bearer ${credential}`);
    for (const list of [caller.credentialId, `user:${ALICE.email.toUpperCase()}`, `# comment\nuser:${ALICE.userId}`]) {
      revocations = parseRevocations(list);
      await expect(v.verify(`Bearer ${credential}`)).rejects.toThrow('credential revoked');
    }
  });

  it('refuses a tampered payload', async () => {
    const { credential } = await issue();
    const [header, payload, signature] = credential.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    claims.email = 'mallory@contoso.example';
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    await expect(verifier().verify(`Bearer ${forged}`)).rejects.toThrow('credential signature invalid');
  });

  it('refuses alg none', async () => {
    const { credential } = await issue();
    const [, payload] = credential.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid: KEY.kid, typ: 'relay-credential+jwt' })).toString('base64url');
    await expect(verifier().verify(`Bearer ${header}.${payload}.`)).rejects.toThrow(CredentialError);
  });

  it('refuses a JWT that is not a relay credential (wrong audience)', async () => {
    const token = await new SignJWT({ email: ALICE.email, agent: 'codex' })
      .setProtectedHeader({ alg: 'HS256', kid: KEY.kid, typ: 'relay-credential+jwt' })
      .setIssuer('coding-agent-relay')
      .setAudience('something-else')
      .setSubject(ALICE.userId)
      .setJti('x')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(KEY.key);
    await expect(verifier().verify(`Bearer ${token}`)).rejects.toThrow('credential not valid for this relay (aud)');
  });

  it('never puts the credential in an error message', async () => {
    const { credential } = await issue({ current: OLD_KEY });
    const error = await verifier().verify(`Bearer ${credential}`).catch((e: Error) => e);
    expect((error as Error).message).not.toContain(credential.split('.')[2]!);
  });

  it('refuses signing keys shorter than 32 bytes', () => {
    expect(() => signingKey('short')).toThrow('relay signing key must be at least 32 bytes');
  });
});

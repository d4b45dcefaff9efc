import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { easyAuthSignIn, entraSignIn, localSignIn, SignInError, type UserSignIn } from '../../shared/identity/user-sign-in.js';
import { fakeServer, type FakeServer } from '../fakes/http-server.js';

const TENANT = '11111111-2222-3333-4444-555555555555';
const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;
const AUDIENCE = 'api://coding-agent-relay';
const CLAIMS = { oid: 'aaaaaaaa-0000-4000-8000-000000000001', preferred_username: 'alice@contoso.example', tid: TENANT };

let jwks: FakeServer;
let signIn: UserSignIn;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
let publicJwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
  jwks = await fakeServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  signIn = entraSignIn({ audience: [AUDIENCE], issuers: [ISSUER, `https://sts.windows.net/${TENANT}/`], jwksUrl: `${jwks.url}/discovery/v2.0/keys` });
});
afterAll(() => jwks.close());

function token(overrides: { issuer?: string; audience?: string; kid?: string; expiresIn?: string | number; notBefore?: string | number; claims?: object } = {}) {
  const jwt = new SignJWT({ ...CLAIMS, ...overrides.claims })
    .setProtectedHeader({ alg: 'RS256', kid: overrides.kid ?? 'key-1' })
    .setIssuer(overrides.issuer ?? ISSUER)
    .setAudience(overrides.audience ?? AUDIENCE)
    .setSubject('pairwise-subject')
    .setIssuedAt()
    .setExpirationTime(overrides.expiresIn ?? '1h');
  if (overrides.notBefore !== undefined) jwt.setNotBefore(overrides.notBefore);
  return jwt.sign(privateKey);
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('entraSignIn', () => {
  it('returns the object id and UPN of a valid token', async () => {
    expect(await signIn(bearer(await token()))).toEqual({ id: CLAIMS.oid, email: CLAIMS.preferred_username, roles: [], source: 'entra' });
  });

  it('returns the app roles of the roles claim', async () => {
    expect(await signIn(bearer(await token({ claims: { roles: ['Usage.Admin', 42, 'Other'] } })))).toMatchObject({ roles: ['Usage.Admin', 'Other'] });
  });

  it('accepts the v1 issuer of the tenant', async () => {
    await expect(signIn(bearer(await token({ issuer: `https://sts.windows.net/${TENANT}/` })))).resolves.toMatchObject({ id: CLAIMS.oid });
  });

  it('allows small clock skew', async () => {
    const expiredJustNow = Math.floor(Date.now() / 1000) - 30;
    await expect(signIn(bearer(await token({ expiresIn: expiredJustNow })))).resolves.toMatchObject({ id: CLAIMS.oid });
  });

  it.each([
    ['no token', async () => ({}), 'sign-in required: send Authorization: Bearer <Entra ID access token>'],
    ['a wrong issuer', async () => bearer(await token({ issuer: 'https://login.microsoftonline.com/other-tenant/v2.0' })), 'access token not valid here (iss)'],
    ['a wrong audience', async () => bearer(await token({ audience: 'api://something-else' })), 'access token not valid here (aud)'],
    ['an expired token', async () => bearer(await token({ expiresIn: Math.floor(Date.now() / 1000) - 3600 })), 'access token expired'],
    ['a token not yet valid', async () => bearer(await token({ notBefore: Math.floor(Date.now() / 1000) + 3600 })), 'access token not valid here (nbf)'],
    ['an unknown kid', async () => bearer(await token({ kid: 'key-2' })), 'access token signed with an unknown key'],
    [
      'a tampered payload',
      async () => {
        const [h, p, s] = (await token()).split('.');
        const claims = { ...JSON.parse(Buffer.from(p!, 'base64url').toString()), oid: 'someone-else' };
        return bearer(`${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`);
      },
      'access token signature invalid',
    ],
    [
      'alg none',
      async () => {
        const [, p] = (await token()).split('.');
        return bearer(`${Buffer.from('{"alg":"none","kid":"key-1"}').toString('base64url')}.${p}.`);
      },
      'access token uses a signing algorithm that is not accepted',
    ],
    [
      'HS256 signed with the public key (algorithm confusion)',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
        const forged = await new SignJWT(CLAIMS).setProtectedHeader({ alg: 'HS256', kid: 'key-1' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('1h').sign(secret);
        return bearer(forged);
      },
      'access token uses a signing algorithm that is not accepted',
    ],
    ['a token naming no user', async () => bearer(await token({ claims: { preferred_username: undefined } })), 'access token names no user (oid/sub and preferred_username/upn/email expected)'],
  ])('refuses %s with 401', async (_case, headers, message) => {
    const error = await signIn(await headers()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignInError);
    expect((error as SignInError).status).toBe(401);
    expect((error as Error).message).toBe(message);
  });

  it('answers 503 when the key set cannot be fetched', async () => {
    const unreachable = entraSignIn({ audience: [AUDIENCE], issuers: [ISSUER], jwksUrl: 'http://127.0.0.1:9/keys' });
    const error = (await unreachable(bearer(await token())).catch((e: unknown) => e)) as SignInError;
    expect(error.status).toBe(503);
  });
});

describe('easyAuthSignIn', () => {
  const principal = (claims: { typ: string; val: string }[]) => Buffer.from(JSON.stringify({ auth_typ: 'aad', claims })).toString('base64');

  it('reads the user from x-ms-client-principal', async () => {
    const headers = { 'x-ms-client-principal': principal([{ typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: 'oid-1' }, { typ: 'preferred_username', val: 'bob@contoso.example' }]) };
    expect(await easyAuthSignIn()(headers)).toEqual({ id: 'oid-1', email: 'bob@contoso.example', roles: [], source: 'easy-auth' });
  });

  it('reads app roles typed by the principal role_typ', async () => {
    const claims = [
      { typ: 'oid', val: 'oid-1' },
      { typ: 'preferred_username', val: 'bob@contoso.example' },
      { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'Usage.Admin' },
      { typ: 'groups', val: 'not-a-role' },
    ];
    const encoded = Buffer.from(JSON.stringify({ auth_typ: 'aad', role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', claims })).toString('base64');
    expect(await easyAuthSignIn()({ 'x-ms-client-principal': encoded })).toMatchObject({ roles: ['Usage.Admin'] });
  });

  it('refuses a request without the header', async () => {
    await expect(easyAuthSignIn()({})).rejects.toThrow('sign-in required (App Service Authentication principal missing)');
  });
});

describe('localSignIn', () => {
  it('is always the configured local developer', async () => {
    expect(await localSignIn({ id: 'dev', email: 'dev@localhost' })({})).toEqual({ id: 'dev', email: 'dev@localhost', roles: [], source: 'local' });
  });
});

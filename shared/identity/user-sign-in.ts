import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { BEARER_CHALLENGE, Refusal } from '../http.js';

/*
 * Who is asking, for endpoints that act for a person (agent configs). Three ways, one chosen by
 * settings: Microsoft Entra ID access tokens validated here with jose (issuer, audience, signature
 * against the tenant's JWKS, expiry and not-before with a small clock skew); App Service
 * Authentication's principal header when explicitly trusted; or, in local mode only, a fixed local
 * identity.
 */

export interface SignedInUser {
  /** Stable id: the Entra object id (`oid`), else `sub`. */
  id: string;
  /** Email or UPN. */
  email: string;
  /** App roles granted to the user (Entra `roles` claim); none locally. */
  roles: readonly string[];
  source: 'entra' | 'easy-auth' | 'local';
}

/** A refusal: 401, or 503 when the keys to check the token cannot be had. Never contains the token. */
export class SignInError extends Refusal {
  constructor(message: string, status: 401 | 503 = 401) {
    super(status, message, status === 401 ? { 'www-authenticate': BEARER_CHALLENGE } : { 'retry-after': '5' });
  }
}

export type UserSignIn = (headers: Record<string, string | undefined>) => Promise<SignedInUser>;

/**
 * The signed-in user of a request to an endpoint that acts for a person, or the refusal every such
 * endpoint gives (a SignInError): 401 with a challenge, 503 (retry) when the keys to check the token
 * cannot be had or sign-in is not configured.
 */
export async function signedInUser(userSignIn: UserSignIn | undefined, headers: Record<string, string | undefined>): Promise<SignedInUser> {
  if (!userSignIn) throw new SignInError('user sign-in is not configured: set ENTRA_TENANT_ID and ENTRA_AUDIENCE, or TRUST_EASY_AUTH', 503);
  return userSignIn(headers);
}

/*
 * The user's id and email end up in files (a comment in ~/.gemini/.env, Cursor's instructions) and in
 * every export. A claim carrying control characters or Unicode line breaks (U+0085, U+2028, U+2029,
 * which JavaScript's multi-line regular expressions treat as line ends) could smuggle lines into a
 * file, so such a user is refused here, before anything is rendered.
 */
const UNSAFE_CLAIM = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const MAX_CLAIM_LENGTH = 256;

function checkedUser(id: string, email: string, roles: readonly string[], source: SignedInUser['source']): SignedInUser {
  for (const [name, value] of [['id', id], ['email', email]] as const) {
    if (UNSAFE_CLAIM.test(value) || value.length > MAX_CLAIM_LENGTH) {
      throw new SignInError(`the signed-in user's ${name} contains control characters or line breaks, or is longer than ${MAX_CLAIM_LENGTH} characters: refused`);
    }
  }
  return { id, email, roles, source };
}

export interface EntraOptions {
  /** Accepted audiences: the API's client id (v2 tokens) and/or its application ID URI (v1). */
  audience: string[];
  /** Accepted issuers: for a tenant, its v2.0 and v1 issuers. */
  issuers: string[];
  jwksUrl: string;
  clockToleranceSeconds?: number;
}

const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256'];

export function entraSignIn(options: EntraOptions): UserSignIn {
  // jose caches the key set and refetches it (rate-limited) when a token names an unknown kid.
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl), { cacheMaxAge: 60 * 60 * 1000, cooldownDuration: 30_000, timeoutDuration: 5000 });
  return async (headers) => {
    const token = /^Bearer +(\S+)$/.exec(headers.authorization?.trim() ?? '')?.[1];
    if (!token) throw new SignInError('sign-in required: send Authorization: Bearer <Entra ID access token>');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: options.issuers,
        audience: options.audience,
        algorithms: ASYMMETRIC_ALGORITHMS,
        clockTolerance: options.clockToleranceSeconds ?? 120,
      }));
    } catch (err) {
      throw signInError(err);
    }
    const claims = payload as JWTPayload & Record<string, unknown>;
    const id = typeof claims.oid === 'string' ? claims.oid : claims.sub;
    const email = [claims.preferred_username, claims.upn, claims.email, claims.unique_name].find((v): v is string => typeof v === 'string');
    if (!id || !email) throw new SignInError('access token names no user (oid/sub and preferred_username/upn/email expected)');
    const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
    return checkedUser(id, email, roles, 'entra');
  };
}

function signInError(err: unknown): SignInError {
  if (err instanceof errors.JWTExpired) return new SignInError('access token expired');
  if (err instanceof errors.JWTClaimValidationFailed) return new SignInError(`access token not valid here (${err.claim})`);
  if (err instanceof errors.JWKSNoMatchingKey) return new SignInError('access token signed with an unknown key');
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return new SignInError('access token uses a signing algorithm that is not accepted');
  if (err instanceof errors.JWSSignatureVerificationFailed) return new SignInError('access token signature invalid');
  if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) return new SignInError('access token could not be verified: signing keys unavailable', 503);
  return new SignInError('access token malformed');
}

/**
 * App Service Authentication ("Easy Auth") validates the user in front of the app and passes the
 * principal as base64 JSON in `x-ms-client-principal`, stripping that header from outside requests.
 * Trust it only when the app runs behind it (setting TRUST_EASY_AUTH).
 */
export function easyAuthSignIn(): UserSignIn {
  return async (headers) => {
    const encoded = headers['x-ms-client-principal'];
    if (!encoded) throw new SignInError('sign-in required (App Service Authentication principal missing)');
    let principal: { claims?: { typ?: string; val?: string }[]; role_typ?: string };
    try {
      principal = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
    } catch {
      throw new SignInError('App Service Authentication principal malformed');
    }
    const claim = (...types: string[]) => principal.claims?.find((c) => c.typ && types.includes(c.typ))?.val;
    const id = claim('http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid') ?? headers['x-ms-client-principal-id'];
    const email = claim('preferred_username', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', 'upn', 'email', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress') ?? headers['x-ms-client-principal-name'];
    if (!id || !email) throw new SignInError('App Service Authentication principal names no user');
    // App roles arrive as one claim each, typed by the principal's role_typ.
    const roleTypes = new Set([principal.role_typ, 'roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role']);
    const roles = (principal.claims ?? []).filter((c) => roleTypes.has(c.typ) && typeof c.val === 'string').map((c) => c.val!);
    return checkedUser(id, email, roles, 'easy-auth');
  };
}

/** Local mode only: everyone is the configured local developer. */
export function localSignIn(user: { id: string; email: string }): UserSignIn {
  return async () => checkedUser(user.id, user.email, [], 'local');
}

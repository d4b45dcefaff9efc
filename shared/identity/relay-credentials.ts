import { createHash, randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { BEARER_CHALLENGE, Refusal } from '../http.js';
import { AGENT_NAMES, type AgentName } from '../settings.js';

/*
 * Relay credentials: what an agent sends in `Authorization: Bearer ...` with every export. A JWT
 * (HS256) signed with a key held in Key Vault, carrying who the credential was issued to and for
 * which agent. Verification is local; results are cached per credential, so a request costs a map
 * lookup plus the revocation check. The key id (`kid`) is derived from the key itself, so rotating
 * means: the current key becomes the previous one, a new key becomes current, and credentials
 * signed with either verify until the previous key is removed.
 */

export type { AgentName };

const ISSUER = 'coding-agent-relay';
const AUDIENCE = 'otlp-relay';
const TYPE = 'relay-credential+jwt';
const CLOCK_TOLERANCE_SECONDS = 60;
/** HS256 keys shorter than the hash output weaken it (RFC 7518 section 3.2). */
export const MIN_KEY_BYTES = 32;
const MAX_CACHED = 10_000;

export interface SigningKey {
  kid: string;
  key: Uint8Array;
}

export interface SigningKeys {
  current: SigningKey;
  previous?: SigningKey;
}

/** Who sent an export, as the credential says. */
export interface Caller {
  userId: string;
  email: string;
  agent: AgentName;
  credentialId: string;
  expiresAt: number;
}

export interface Revocations {
  credentialIds: ReadonlySet<string>;
  /** User ids or emails whose every credential is revoked. */
  users: ReadonlySet<string>;
}

/**
 * A refusal the client sees as 401 with the bearer challenge (RFC 6750 section 3: `invalid_token` once a
 * credential was presented); the message never contains the credential.
 */
export class CredentialError extends Refusal {
  constructor(message: string, presented = true) {
    super(401, message, { 'www-authenticate': presented ? `${BEARER_CHALLENGE}, error="invalid_token"` : BEARER_CHALLENGE });
  }
}

export function signingKey(secret: string): SigningKey {
  const key = Buffer.from(secret, 'utf8');
  if (key.length < MIN_KEY_BYTES) throw new Error(`relay signing key must be at least ${MIN_KEY_BYTES} bytes`);
  return { kid: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

/**
 * The deny list: one entry per line (or comma-separated), either a credential id or `user:<id or email>`.
 * Blank lines and lines starting with # are ignored.
 */
export function parseRevocations(text: string): Revocations {
  const credentialIds = new Set<string>();
  const users = new Set<string>();
  for (const raw of text.split(/[\n,]/)) {
    const entry = raw.trim();
    if (!entry || entry.startsWith('#')) continue;
    if (entry.startsWith('user:')) users.add(entry.slice(5).trim().toLowerCase());
    else credentialIds.add(entry);
  }
  return { credentialIds, users };
}

export interface IssueRequest {
  userId: string;
  email: string;
  agent: AgentName;
  ttlSeconds: number;
  now?: number;
}

/**
 * Issues a credential for an agent config. Issue time is the start of the UTC day, expiry
 * `ttlSeconds` after the end of that day, and the id is derived from key, user, agent and day:
 * fetching a config twice on one day yields the same file (idempotent installs). Revoking that id
 * revokes that day's credential of that user for that agent.
 */
export async function issueCredential(keys: SigningKeys, request: IssueRequest): Promise<{ credential: string; caller: Caller }> {
  const now = Math.floor((request.now ?? Date.now()) / 1000);
  const issuedAt = now - (now % 86_400);
  const digest = createHash('sha256').update(`${keys.current.kid}\n${request.userId}\n${request.email}\n${request.agent}\n${issuedAt}\n${request.ttlSeconds}`).digest('hex');
  const credentialId = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`;
  return sign(keys, { ...callerOf(request), credentialId, expiresAt: issuedAt + 86_400 + request.ttlSeconds }, issuedAt);
}

/**
 * Issues a short-lived credential (POST /api/credential, for agents that fetch their export headers
 * from a helper): valid `ttlSeconds` from now, with a random id, so each refresh is a new credential.
 */
export async function issueShortCredential(keys: SigningKeys, request: IssueRequest): Promise<{ credential: string; caller: Caller }> {
  const issuedAt = Math.floor((request.now ?? Date.now()) / 1000);
  return sign(keys, { ...callerOf(request), credentialId: randomUUID(), expiresAt: issuedAt + request.ttlSeconds }, issuedAt);
}

function callerOf(request: IssueRequest): Omit<Caller, 'credentialId' | 'expiresAt'> {
  return { userId: request.userId, email: request.email, agent: request.agent };
}

async function sign(keys: SigningKeys, caller: Caller, issuedAt: number): Promise<{ credential: string; caller: Caller }> {
  const credential = await new SignJWT({ email: caller.email, agent: caller.agent })
    .setProtectedHeader({ alg: 'HS256', kid: keys.current.kid, typ: TYPE })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(caller.userId)
    .setJti(caller.credentialId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(caller.expiresAt)
    .sign(keys.current.key);
  return { credential, caller };
}

export interface VerifierOptions {
  keys: () => Promise<SigningKeys>;
  revocations: () => Promise<Revocations>;
  /** Both as held in memory right now, when they are (no read, no await): the common case. */
  held?: () => { keys: SigningKeys; revocations: Revocations } | undefined;
  now?: () => number;
}

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

export class CredentialVerifier {
  /**
   * Verified credentials by Authorization header as sent, valid while the key set is the same object
   * (key providers keep it stable): a known credential is a map lookup.
   */
  private readonly verified = new Map<string, { caller: Caller; keys: SigningKeys }>();
  private readonly now: () => number;
  /** Checks answered from the cache and those that verified a signature (the relay's metrics read them). */
  readonly cache = { hits: 0, misses: 0 };

  constructor(private readonly options: VerifierOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The caller named by an Authorization header, or a CredentialError saying why not. */
  verify(authorization: string | undefined): Promise<Caller> {
    // A known, unexpired, unrevoked credential while keys and revocations are held: no await at all.
    const held = authorization ? this.options.held?.() : undefined;
    const entry = held && this.verified.get(authorization!);
    if (entry && entry.keys === held.keys && this.valid(entry.caller, held.revocations)) {
      this.cache.hits++;
      return Promise.resolve(entry.caller);
    }
    return this.verifyReading(authorization);
  }

  /** verify(), reading keys and revocations through their providers. */
  private async verifyReading(authorization: string | undefined): Promise<Caller> {
    if (!authorization) throw new CredentialError('missing credential: send Authorization: Bearer <relay credential>', false);
    const match = BEARER.exec(authorization.trim());
    if (!match) throw new CredentialError('malformed credential: expected Authorization: Bearer <relay credential>');
    const keys = await this.options.keys();
    let entry = this.verified.get(authorization);
    if (entry && entry.keys === keys) {
      this.cache.hits++;
    } else {
      this.cache.misses++;
      entry = { caller: await this.verifySignature(match[1]!, keys), keys };
      if (this.verified.size >= MAX_CACHED) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(authorization, entry);
    }
    const { caller } = entry;
    if (this.expired(caller)) {
      this.verified.delete(authorization);
      throw new CredentialError('credential expired: fetch a new agent config');
    }
    if (this.revoked(caller, await this.options.revocations())) throw new CredentialError('credential revoked');
    return caller;
  }

  private valid(caller: Caller, revocations: Revocations): boolean {
    return !this.expired(caller) && !this.revoked(caller, revocations);
  }

  private expired(caller: Caller): boolean {
    return caller.expiresAt + CLOCK_TOLERANCE_SECONDS <= this.now() / 1000;
  }

  private revoked(caller: Caller, revocations: Revocations): boolean {
    return revocations.credentialIds.has(caller.credentialId) || revocations.users.has(caller.userId.toLowerCase()) || revocations.users.has(caller.email.toLowerCase());
  }

  private async verifySignature(token: string, keys: SigningKeys): Promise<Caller> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        (header) => {
          const key = [keys.current, keys.previous].find((k) => k && k.kid === header.kid);
          if (!key) throw new CredentialError('credential signed with an unknown or retired key');
          return key.key;
        },
        {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          typ: TYPE,
          requiredClaims: ['sub', 'jti', 'exp', 'iat'],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: new Date(this.now()),
        },
      ));
    } catch (err) {
      throw toCredentialError(err);
    }
    const { sub, jti, exp, email, agent } = payload as JWTPayload & { email?: unknown; agent?: unknown };
    if (typeof email !== 'string' || !AGENT_NAMES.includes(agent as AgentName)) throw new CredentialError('credential is missing its email or agent');
    return { userId: sub!, email, agent: agent as AgentName, credentialId: jti!, expiresAt: exp! };
  }
}

function toCredentialError(err: unknown): CredentialError {
  if (err instanceof CredentialError) return err;
  if (err instanceof errors.JWTExpired) return new CredentialError('credential expired: fetch a new agent config');
  if (err instanceof errors.JWSSignatureVerificationFailed) return new CredentialError('credential signature invalid');
  if (err instanceof errors.JOSEAlgNotAllowed) return new CredentialError('credential uses a signing algorithm the relay does not accept');
  if (err instanceof errors.JWTClaimValidationFailed) return new CredentialError(`credential not valid for this relay (${err.claim})`);
  return new CredentialError('malformed credential');
}

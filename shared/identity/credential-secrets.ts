import type { SecretCache } from '../secrets.js';
import type { Settings } from '../settings.js';
import { parseRevocations, signingKey, type Revocations, type SigningKeys } from './relay-credentials.js';

/** Remembers the last parse of a secret value, so a cached secret is parsed once, not per request. */
function memoByValue<T>(parse: (value: string) => T): (value: string) => T {
  let last: { value: string; parsed: T } | undefined;
  return (value) => {
    if (last?.value !== value) last = { value, parsed: parse(value) };
    return last.parsed;
  };
}

/**
 * The signing keys (current and, during a rotation, previous) and the revocation list, read through
 * the secret cache: rotation and revocation take effect within SECRET_CACHE_TTL_SECONDS.
 */
export function credentialSecrets(secrets: SecretCache, names: Settings['credentialSecretNames']) {
  const currentOf = memoByValue(signingKey);
  const previousOf = memoByValue((value: string) => (value ? signingKey(value) : undefined));
  const revocationsOf = memoByValue(parseRevocations);
  let last: SigningKeys | undefined;
  /** The same object while the keys stay the same (the verifier's cache keys on it); made only when they change. */
  function keysOf(current: string, previous: string): SigningKeys {
    const currentKey = currentOf(current);
    const previousKey = previousOf(previous);
    if (last?.current !== currentKey || last.previous !== previousKey) last = { current: currentKey, previous: previousKey };
    return last;
  }
  return {
    async keys(): Promise<SigningKeys> {
      const [current, previous] = await Promise.all([secrets.get(names.signingKey), secrets.getOptional(names.previousSigningKey)]);
      return keysOf(current, previous);
    },
    async revocations(): Promise<Revocations> {
      return revocationsOf(await secrets.getOptional(names.revoked));
    },
    /** Keys and revocations as the cache holds them now, when all three are within their TTL. */
    held(): { keys: SigningKeys; revocations: Revocations } | undefined {
      const current = secrets.peek(names.signingKey);
      const previous = secrets.peek(names.previousSigningKey);
      const revoked = secrets.peek(names.revoked);
      if (current === undefined || previous === undefined || revoked === undefined) return undefined;
      return { keys: keysOf(current, previous), revocations: revocationsOf(revoked) };
    },
  };
}

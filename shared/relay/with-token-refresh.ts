import type { TokenProvider } from '../databricks-token.js';
import type { SendWithToken } from './forward-http.js';
import type { Forward, ForwardOutcome } from './outcome.js';

/** After the upstream refused a freshly fetched token: pause 1 s, 2 s, 4 s ... up to 30 s. */
const FIRST_PAUSE_MS = 1000;
const MAX_PAUSE_MS = 30_000;

const UNAVAILABLE: ForwardOutcome = { kind: 'retryable', status: 503, retryAfterSeconds: 2, reason: 'relay credentials unavailable' };
const REFUSED: ForwardOutcome = { kind: 'retryable', status: 503, retryAfterSeconds: 3, reason: 'upstream refused the relay credentials' };

/**
 * Attaches the Databricks token. When the upstream refuses it (401/403), the token is dropped and
 * fetched again once for the whole burst of exports that carried it (not once per export), and the
 * export is sent again with the fresh one, so a rotated secret is picked up without a restart. When the
 * fresh token is refused too, exports are answered 503 without touching the upstream or Key Vault for
 * a pause that doubles with each further refusal; after it, one export tries one refresh again.
 */
export function withTokenRefresh(send: SendWithToken, tokens: TokenProvider, warn: (message: string) => void, now: () => number = Date.now): Forward {
  /** The last token the upstream refused. */
  let refused: string | undefined;
  let refreshing: Promise<string> | undefined;
  let pausedUntil = 0;
  let pauseMs = 0;

  /** A token other than `bad`: the one already fetched past it, or one fresh fetch shared by all callers. */
  function tokenPast(bad: string): Promise<string> {
    return (refreshing ??= (async () => {
      const current = await tokens.token();
      if (current !== bad) return current;
      tokens.invalidate();
      return tokens.token();
    })().finally(() => (refreshing = undefined)));
  }

  /** The fresh token was refused as well: 503, and no refresh before the pause is over. */
  function refusedAgain(status: number): ForwardOutcome {
    if (now() < pausedUntil) return REFUSED;
    pauseMs = Math.min(MAX_PAUSE_MS, pauseMs === 0 ? FIRST_PAUSE_MS : pauseMs * 2);
    pausedUntil = now() + pauseMs;
    warn(`upstream refused a freshly fetched token (HTTP ${status}); next refresh in ${pauseMs / 1000} s`);
    return REFUSED;
  }

  return async (signal, protobuf) => {
    if (now() < pausedUntil) return REFUSED;
    let token: string;
    try {
      token = await tokens.token();
      if (token === refused) token = await tokenPast(token); // the pause is over: one refresh
    } catch (err) {
      warn(`telemetry token unavailable: ${(err as Error).message}`);
      return UNAVAILABLE;
    }
    if (token === refused) return refusedAgain(401);
    const first = await send(signal, protobuf, token);
    if (first.kind !== 'unauthorized') {
      if (first.kind === 'accepted') pauseMs = 0;
      return first;
    }
    refused = token;
    if (now() < pausedUntil) return REFUSED; // another export of this burst found the fresh token refused
    let fresh: string;
    try {
      fresh = await tokenPast(token);
    } catch (err) {
      warn(`telemetry token unavailable: ${(err as Error).message}`);
      return UNAVAILABLE;
    }
    if (fresh === token) return refusedAgain(first.upstreamStatus);
    const second = await send(signal, protobuf, fresh);
    if (second.kind !== 'unauthorized') return second;
    refused = fresh;
    return refusedAgain(second.upstreamStatus);
  };
}

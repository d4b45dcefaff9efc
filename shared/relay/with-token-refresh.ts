import type { TokenProvider } from '../databricks-token.js';
import type { Signal } from '../otlp/signals.js';
import type { SendWithToken } from './forward-http.js';
import type { ProtobufParts } from '../otlp/protobuf-parts.js';
import type { Forward, ForwardOutcome } from './outcome.js';

/**
 * Attaches the Databricks token. When the upstream refuses it (401/403), the token is dropped from
 * every cache and the export is sent once more with a freshly fetched one, so a rotated secret is
 * picked up without a restart. A second refusal is our problem, not the client's: retryable 503.
 */
export function withTokenRefresh(send: SendWithToken, tokens: TokenProvider, warn: (message: string) => void): Forward {
  async function attempt(signal: Signal, protobuf: ProtobufParts): Promise<ForwardOutcome> {
    let token: string;
    try {
      token = await tokens.token();
    } catch (err) {
      warn(`telemetry token unavailable: ${(err as Error).message}`);
      return { kind: 'retryable', status: 503, retryAfterSeconds: 2, reason: 'relay credentials unavailable' };
    }
    return send(signal, protobuf, token);
  }
  return async (signal, protobuf) => {
    const first = await attempt(signal, protobuf);
    if (first.kind !== 'unauthorized') return first;
    tokens.invalidate();
    const second = await attempt(signal, protobuf);
    if (second.kind !== 'unauthorized') return second;
    tokens.invalidate();
    warn(`upstream refused a freshly fetched token (HTTP ${second.upstreamStatus})`);
    return { kind: 'retryable', status: 503, retryAfterSeconds: 3, reason: 'upstream refused the relay credentials' };
  };
}

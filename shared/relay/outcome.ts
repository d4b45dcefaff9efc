import type { Signal } from '../otlp/signals.js';

/** What became of one export sent upstream: a value, never an exception (see forward-http.ts). */
export type ForwardOutcome =
  | { kind: 'accepted'; body: Uint8Array }
  | { kind: 'retryable'; status: 429 | 503; retryAfterSeconds: number; reason: string }
  | { kind: 'unauthorized'; upstreamStatus: number }
  | { kind: 'rejected'; status: 400 | 413; reason: string };

/**
 * An export as protobuf, in consecutive pieces: rewriting splices a few new bytes between untouched
 * ranges of the request, and sending the pieces as they are saves copying large bodies.
 */
export type ProtobufParts = readonly Uint8Array[];

/** Sends one protobuf export of a signal upstream. Decorators wrap it (token refresh, concurrency). */
export type Forward = (signal: Signal, protobuf: ProtobufParts) => Promise<ForwardOutcome>;

import type { ProtobufParts } from '../otlp/protobuf-parts.js';
import type { Signal } from '../otlp/signals.js';

/** What became of one export sent upstream: a value, never an exception (see forward-http.ts). */
export type ForwardOutcome =
  | { kind: 'accepted'; body: Uint8Array }
  | { kind: 'retryable'; status: 429 | 503; retryAfterSeconds: number; reason: string }
  | { kind: 'unauthorized'; upstreamStatus: number }
  | { kind: 'rejected'; status: 400 | 413; reason: string };

/** Sends one protobuf export of a signal upstream. Decorators wrap it (token refresh, concurrency). */
export type Forward = (signal: Signal, protobuf: ProtobufParts) => Promise<ForwardOutcome>;

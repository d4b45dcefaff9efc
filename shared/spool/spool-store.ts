import type { SignalName } from '../otlp/signals.js';
import type { ProtobufParts } from '../otlp/protobuf-parts.js';

/** An export as the relay would have sent it upstream, kept until the upstream takes it. */
export interface SpoolEntry {
  signal: SignalName;
  /** The Unity Catalog table the export was meant for when it arrived. */
  table: string;
  /** When the relay received the export (ms since the epoch). */
  receivedAt: number;
  protobuf: ProtobufParts;
}

/** One spooled export as a listing shows it. */
export interface SpooledItem {
  name: string;
  signal: string;
  receivedAt: number;
  size: number;
  /** Another replayer holds it right now. */
  leased: boolean;
}

/** A spooled export this replayer alone may work on until it lets go. */
export interface SpoolLease {
  read(): Promise<{ protobuf: Uint8Array; table: string | undefined }>;
  /** The upstream has it: gone for good. */
  delete(): Promise<void>;
  /** The upstream refused it for good: moved aside with the reason, never sent again. */
  deadLetter(reason: string): Promise<void>;
  /** Back to the spool for a later attempt. */
  release(): Promise<void>;
}

/** Durable storage of spooled exports (blob-spool-store.ts). */
export interface SpoolStore {
  write(entry: SpoolEntry): Promise<void>;
  /** Every spooled export, oldest first. */
  list(): AsyncIterable<SpooledItem>;
  /** The item leased for `seconds`, or undefined when another replayer holds it or it is gone. */
  lease(item: SpooledItem, seconds: number): Promise<SpoolLease | undefined>;
}

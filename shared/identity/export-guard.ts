import type { SignalName } from '../otlp/signals.js';
import type { ProtobufParts } from '../otlp/protobuf-parts.js';
import type { Caller, CredentialVerifier } from './relay-credentials.js';
import { rewriteExport } from './rewrite-export.js';
import { encodeIdentity, STAMPED_KEYS } from './stamp-identity.js';

/** What the export pipeline asks of identity: who is calling, and the export as it may leave. */
export interface ExportGuard {
  /** The verified caller; undefined when credentials are off (local mode, RELAY_AUTH=none). Throws CredentialError. */
  authenticate(authorization: string | undefined): Promise<Caller | undefined>;
  /** Stamps the caller's identity into every resource and removes denied attributes. */
  protect(signal: SignalName, protobuf: Uint8Array, caller: Caller | undefined): ProtobufParts;
}

export interface ExportGuardOptions {
  verifier: CredentialVerifier | undefined;
  deniedResourceAttributes: ReadonlySet<string>;
  deniedLogAttributes: ReadonlySet<string>;
}

export function exportGuard(options: ExportGuardOptions): ExportGuard {
  const stamps = new WeakMap<Caller, Uint8Array>();
  const dropWhenStamping = new Set([...options.deniedResourceAttributes, ...STAMPED_KEYS]);
  return {
    authenticate: async (authorization) => options.verifier?.verify(authorization),
    protect(signal, protobuf, caller) {
      let stamp: Uint8Array | undefined;
      if (caller) {
        stamp = stamps.get(caller);
        if (!stamp) stamps.set(caller, (stamp = encodeIdentity(caller)));
      }
      if (!stamp && options.deniedResourceAttributes.size === 0 && options.deniedLogAttributes.size === 0) return [protobuf];
      return rewriteExport(signal, protobuf, {
        stamp,
        dropResourceKeys: stamp ? dropWhenStamping : options.deniedResourceAttributes,
        dropLogKeys: options.deniedLogAttributes,
      });
    },
  };
}

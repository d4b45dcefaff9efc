import type { ValidExport } from '../otlp/codec.js';
import { KeySet } from '../otlp/key-set.js';
import type { SignalName } from '../otlp/signals.js';
import type { ProtobufParts } from '../otlp/protobuf-parts.js';
import type { Caller, CredentialVerifier } from './relay-credentials.js';
import { compileRewrite, rewriteExport } from './rewrite-export.js';
import { encodeIdentity, IDENTITY_NAMESPACES, STAMPED_KEYS } from './stamp-identity.js';

/** What the export pipeline asks of identity: who is calling, and the export as it may leave. */
export interface ExportGuard {
  /** The verified caller; undefined when credentials are off (local mode, RELAY_AUTH=none). Throws CredentialError. */
  authenticate(authorization: string | undefined): Promise<Caller | undefined>;
  /** The attribute keys protect() needs to know about: validation says whether an export holds one (`watchedKey`). */
  readonly watchedKeys: KeySet;
  /**
   * Removes the client's identity attributes and denied attributes, stamps the caller's identity into
   * every resource and leaves out entries that carry no data. No parts: nothing left to forward.
   * `writableBefore`: bytes before the export in its buffer that it may rewrite in place (see rewriteExport).
   */
  protect(signal: SignalName, exported: ValidExport, caller: Caller | undefined, writableBefore?: number): ProtobufParts;
}

export interface ExportGuardOptions {
  verifier: CredentialVerifier | undefined;
  deniedResourceAttributes: ReadonlySet<string>;
  deniedLogAttributes: ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();

/** Keys in an identity namespace: validation tells whether an export holds any (most do not). */
const IDENTITY_KEYS = new KeySet([], IDENTITY_NAMESPACES);

export function exportGuard(options: ExportGuardOptions): ExportGuard {
  const stamps = new WeakMap<Caller, Uint8Array>();
  const { deniedResourceAttributes: resource, deniedLogAttributes: logRecord } = options;
  const stampingRules = (prefixes: readonly string[]) =>
    compileRewrite(
      {
        resource: { exact: new Set([...resource, ...STAMPED_KEYS]), prefixes },
        logRecord: { exact: logRecord, prefixes },
        elsewhere: { exact: NONE, prefixes },
        dropEmptyEntries: true,
      },
      true,
    );
  const stamping = stampingRules(IDENTITY_NAMESPACES);
  // For exports without a key in an identity namespace: only resources (and log records, for the deny
  // list) are walked, not every data point. Most exports (Codex's, Gemini CLI's) are such.
  const stampingOnly = stampingRules([]);
  // Without a caller (RELAY_AUTH=none) there is no identity to protect: only the deny lists apply.
  const unstamped =
    resource.size === 0 && logRecord.size === 0
      ? undefined
      : compileRewrite(
          { resource: { exact: resource, prefixes: [] }, logRecord: { exact: logRecord, prefixes: [] }, elsewhere: { exact: NONE, prefixes: [] }, dropEmptyEntries: false },
          false,
        );
  return {
    authenticate: (authorization) => (options.verifier ? options.verifier.verify(authorization) : Promise.resolve(undefined)),
    watchedKeys: IDENTITY_KEYS,
    protect(signal, { protobuf, watchedKey }, caller, writableBefore = 0) {
      if (caller) {
        let stamp = stamps.get(caller);
        if (!stamp) stamps.set(caller, (stamp = encodeIdentity(caller)));
        return rewriteExport((watchedKey ? stamping : stampingOnly)[signal], protobuf, stamp, writableBefore);
      }
      return unstamped ? rewriteExport(unstamped[signal], protobuf, undefined, writableBefore) : [protobuf];
    },
  };
}

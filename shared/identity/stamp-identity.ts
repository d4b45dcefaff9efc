import { otlpType } from '../otlp/schema.js';
import type { Caller } from './relay-credentials.js';

/** The resource attributes the relay writes from a verified credential, replacing any the client sent. */
export const STAMPED_ATTRIBUTES = {
  userId: 'user.id',
  email: 'user.email',
  agent: 'coding_agent.name',
} as const;

export const STAMPED_KEYS: ReadonlySet<string> = new Set(Object.values(STAMPED_ATTRIBUTES));

/**
 * Attribute namespaces that state who the user is (OpenTelemetry semantic conventions `user.*` and
 * `enduser.*`). Identity is the relay's alone to state: a client's attributes in them are removed at
 * every level before the verified identity is stamped.
 */
export const IDENTITY_NAMESPACES: readonly string[] = ['user.', 'enduser.'];

const Resource = otlpType('Resource');

/**
 * The caller's attributes as encoded `Resource.attributes` entries (field 1, KeyValue), ready to be
 * appended to a resource as they are. Encoded once per credential (the verifier caches callers).
 */
export function encodeIdentity(caller: Caller): Uint8Array {
  const attributes = [
    { key: STAMPED_ATTRIBUTES.userId, value: { stringValue: caller.userId } },
    { key: STAMPED_ATTRIBUTES.email, value: { stringValue: caller.email } },
    { key: STAMPED_ATTRIBUTES.agent, value: { stringValue: caller.agent } },
  ];
  return Resource.encode({ attributes }).finish();
}

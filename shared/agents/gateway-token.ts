import { createHash } from 'node:crypto';
import type { SignedInUser } from '../identity/user-sign-in.js';
import type { SecretCache } from '../secrets.js';
import type { AgentConfigSettings } from '../settings.js';
import type { GatewayToken } from './config-context.js';

/**
 * The Key Vault secret holding a user's gateway token: `{user}` replaced by the SHA-256 (hex) of the
 * exact user id. Key Vault names are case-insensitive and allow only letters, digits and dashes, so
 * any readable rewrite of the id (lower-casing, replacing `_` by `-`) maps two users onto one name;
 * a hash of the exact id does not (`11111111_AAAA` and `11111111-aaaa` get different secrets).
 * Operators compute it with `printf %s '<user id>' | sha256sum`.
 */
export function gatewayTokenSecretName(pattern: string, userId: string): string {
  return pattern.replace('{user}', createHash('sha256').update(userId, 'utf8').digest('hex'));
}

/** A stored gateway token must look like one before it is written into a config file. */
const TOKEN = /^[A-Za-z0-9._~+/=-]{8,8192}$/;

/** Where the user's gateway token comes from, best first: their own secret, a helper command, a placeholder. */
export async function gatewayTokenFor(
  user: SignedInUser,
  settings: AgentConfigSettings,
  secrets: SecretCache,
  warn: (message: string) => void,
): Promise<GatewayToken> {
  // Named after the signed-in user only: one user can never be handed another's token.
  const name = gatewayTokenSecretName(settings.gatewayTokenSecretPattern, user.id);
  const value = await secrets.getOptional(name);
  if (value && TOKEN.test(value)) return { kind: 'secret', value };
  if (value) warn(`secret "${name}" does not look like a token; not written into configs`);
  if (settings.gatewayTokenHelper) return { kind: 'helper', command: settings.gatewayTokenHelper };
  return { kind: 'placeholder', instructions: 'Create a Databricks personal access token or ask your platform team for one.' };
}

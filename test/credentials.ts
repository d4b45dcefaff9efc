import { issueCredential, signingKey, type AgentName } from '../shared/identity/relay-credentials.js';

/** The signing key tests give the app (RELAY_SIGNING_KEY or the fake vault's relay-signing-key). */
export const TEST_SIGNING_KEY = 'test-signing-key-0123456789abcdef0123456789';

export const ALICE = { userId: '6f1c1e52-0000-4000-8000-00000000a11c', email: 'alice@contoso.example' };

export async function bearerFor(agent: AgentName, user = ALICE, key = TEST_SIGNING_KEY): Promise<string> {
  const { credential } = await issueCredential({ current: signingKey(key) }, { ...user, agent, ttlSeconds: 3600 });
  return `Bearer ${credential}`;
}

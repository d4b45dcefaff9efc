import { parseArgs } from 'node:util';
import { credentialSecrets } from '../identity/credential-secrets.js';
import { issueCredential } from '../identity/relay-credentials.js';
import { AGENT_NAMES, type AgentName } from '../settings.js';
import { cliContext, runCli } from './cli-context.js';

/*
 * npm run credential -- --user-id <id> --email <email> --agent <agent> [--days <n>]
 * Issues a relay credential with the signing key the app uses (Key Vault, or the environment and
 * .local/ in local mode). The credential goes to stdout, alone, for scripts; details to stderr.
 */
runCli(async () => {
  const { values } = parseArgs({
    options: { 'user-id': { type: 'string' }, email: { type: 'string' }, agent: { type: 'string' }, days: { type: 'string' } },
  });
  const userId = values['user-id'];
  const email = values.email;
  const agent = values.agent as AgentName | undefined;
  if (!userId || !email || !agent || !AGENT_NAMES.includes(agent)) {
    throw new Error(`usage: npm run credential -- --user-id <id> --email <email> --agent <${AGENT_NAMES.join('|')}> [--days <n>]`);
  }
  const { settings, secrets } = await cliContext();
  const days = values.days === undefined ? settings.credentialTtlSeconds / 86_400 : Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Error('--days: expected an integer from 1 to 3650');
  const keys = await credentialSecrets(secrets, settings.credentialSecretNames).keys();
  const { credential, caller } = await issueCredential(keys, { userId, email, agent, ttlSeconds: days * 86_400 });
  console.error(`credential ${caller.credentialId} for ${email} (${agent}), key ${keys.current.kid}, expires ${new Date(caller.expiresAt * 1000).toISOString()}`);
  console.log(credential);
});

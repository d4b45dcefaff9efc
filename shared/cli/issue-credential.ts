import { credentialSecrets } from '../identity/credential-secrets.js';
import { issueCredential } from '../identity/relay-credentials.js';
import { AGENT_NAMES, type AgentName } from '../settings.js';
import { cliArgs, cliContext, runCli } from './cli-context.js';

const HELP = `
npm run credential -- --user-id <id> --email <email> --agent <${AGENT_NAMES.join('|')}> [--days <n>]

Issues a relay credential with the signing key the app uses (Key Vault, or the environment and .local/
in local mode). The credential goes to stdout, alone, for scripts; what it is goes to stderr.

  --user-id <id>     the user the relay stamps into the data (user.id)
  --email <email>    the user's email (user.email)
  --agent <agent>    the agent it is for (coding_agent.name): ${AGENT_NAMES.join(', ')}
  --days <n>         lifetime, 1 to 3650 days (default: RELAY_CREDENTIAL_TTL_DAYS, 90)
  -h, --help         this text
`;

runCli(async () => {
  const { values } = cliArgs(HELP, { options: { 'user-id': { type: 'string' }, email: { type: 'string' }, agent: { type: 'string' }, days: { type: 'string' } } });
  const userId = values['user-id'];
  const email = values.email;
  const agent = values.agent as AgentName | undefined;
  if (!userId || !email || !agent) throw new Error('--user-id, --email and --agent are required (see --help)');
  if (!AGENT_NAMES.includes(agent)) throw new Error(`--agent: expected one of ${AGENT_NAMES.join(', ')}, got "${agent}"`);
  const { settings, secrets } = await cliContext();
  const days = values.days === undefined ? settings.credentialTtlSeconds / 86_400 : Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Error('--days: expected an integer from 1 to 3650');
  const keys = await credentialSecrets(secrets, settings.credentialSecretNames).keys();
  const { credential, caller } = await issueCredential(keys, { userId, email, agent, ttlSeconds: days * 86_400 });
  console.error(`credential ${caller.credentialId} for ${email} (${agent}), key ${keys.current.kid}, expires ${new Date(caller.expiresAt * 1000).toISOString()}`);
  console.log(credential);
});

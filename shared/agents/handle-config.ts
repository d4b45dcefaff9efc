import { jsonResponse, type PlainRequest, type PlainResponse } from '../http.js';
import { issueCredential, type SigningKeys } from '../identity/relay-credentials.js';
import { SignInError, type SignedInUser, type UserSignIn } from '../identity/user-sign-in.js';
import type { SecretCache } from '../secrets.js';
import type { AgentName, Settings } from '../settings.js';
import { claudeCodeSettings } from './claude-code.js';
import { codexConfig } from './codex.js';
import type { ConfigContext, GatewayToken, RenderedFile } from './config-context.js';
import { cursorInstructions } from './cursor.js';
import { UnsafeValueError } from './env-file.js';
import { geminiEnv, geminiSettings } from './gemini-cli.js';
import { installScript } from './install-script.js';

export interface ConfigDeps {
  settings: Settings;
  secrets: SecretCache;
  userSignIn: UserSignIn | undefined;
  signingKeys: () => Promise<SigningKeys>;
  warn: (message: string) => void;
}

export type ConfigHandler = (target: string, request: PlainRequest) => Promise<PlainResponse>;

/** Which file of an agent a request asks for (`?file=` for Gemini CLI, `?format=` for Cursor). */
const RENDERERS: Record<AgentName, (ctx: ConfigContext, query: URLSearchParams) => RenderedFile | string> = {
  'claude-code': (ctx) => claudeCodeSettings(ctx),
  codex: (ctx) => codexConfig(ctx),
  'gemini-cli': (ctx, query) => {
    const file = query.get('file') ?? 'env';
    if (file === 'env') return geminiEnv(ctx);
    if (file === 'settings') return geminiSettings(ctx);
    return `unknown file "${file}" for gemini-cli: use ?file=env (~/.gemini/.env) or ?file=settings (~/.gemini/settings.json)`;
  },
  cursor: (ctx, query) => {
    const format = query.get('format') ?? 'text';
    if (format === 'text' || format === 'json') return cursorInstructions(ctx, format);
    return `unknown format "${format}" for cursor: use ?format=text or ?format=json`;
  },
};

/** A stored gateway token must look like one before it is written into a config file. */
const TOKEN = /^[A-Za-z0-9._~+/=-]{8,8192}$/;

/** GET /api/config/{agent} and /api/config/install.sh, for the signed-in user only. */
export function configHandler(deps: ConfigDeps): ConfigHandler {
  const { settings } = deps;
  const agents = settings.agents;

  async function gatewayToken(user: SignedInUser): Promise<GatewayToken> {
    // Named after the signed-in user only: one user can never be handed another's token.
    const name = agents.gatewayTokenSecretPattern.replace('{user}', user.id.toLowerCase().replace(/[^a-z0-9-]+/g, '-')).slice(0, 127);
    const value = await deps.secrets.getOptional(name);
    if (value && TOKEN.test(value)) return { kind: 'secret', value };
    if (value) deps.warn(`secret "${name}" does not look like a token; not written into configs`);
    if (agents.gatewayTokenHelper) return { kind: 'helper', command: agents.gatewayTokenHelper };
    return { kind: 'placeholder', instructions: 'Create a Databricks personal access token or ask your platform team for one.' };
  }

  return async (target, request) => {
    if (request.method !== 'GET') return jsonResponse(405, { error: `method ${request.method} not allowed: use GET` }, { allow: 'GET' });
    const query = new URL(request.url, 'http://relay').searchParams;
    const isScript = target === 'install.sh';
    if (!isScript && !agents.offered.includes(target as AgentName)) {
      return jsonResponse(404, { error: `unknown agent "${target}"`, supported: agents.offered, installScript: 'install.sh?agents=...' });
    }
    if (!deps.userSignIn) return jsonResponse(503, { error: 'user sign-in is not configured: set ENTRA_TENANT_ID and ENTRA_AUDIENCE, or TRUST_EASY_AUTH' });
    let user: SignedInUser;
    try {
      user = await deps.userSignIn(request.headers);
    } catch (err) {
      if (!(err instanceof SignInError)) throw err;
      return jsonResponse(err.status, { error: err.message }, err.headers);
    }
    if (!agents.relayPublicUrl) return jsonResponse(503, { error: 'setting RELAY_PUBLIC_URL is not set: the relay does not know its public URL' });

    if (isScript) {
      const chosen = (query.get('agents') ?? agents.offered.join(',')).split(',').map((a) => a.trim()).filter(Boolean);
      const unknown = chosen.filter((a) => !agents.offered.includes(a as AgentName));
      if (chosen.length === 0 || unknown.length > 0) {
        return jsonResponse(400, { error: `unknown agent(s): ${unknown.join(', ') || '(none given)'}`, supported: agents.offered });
      }
      const audience = settings.userSignIn.kind === 'entra' ? settings.userSignIn.audience[0] : undefined;
      const body = installScript({ relayUrl: agents.relayPublicUrl, agents: [...new Set(chosen)] as AgentName[], audience });
      return file({ filename: 'install.sh', path: 'install.sh', contentType: 'text/x-shellscript; charset=utf-8', body });
    }

    if (!agents.gatewayUrl) return jsonResponse(503, { error: 'setting AI_GATEWAY_URL is not set: the relay cannot write agent configs' });
    const agent = target as AgentName;
    const keys = await deps.signingKeys();
    const { credential } = await issueCredential(keys, { userId: user.id, email: user.email, agent, ttlSeconds: settings.credentialTtlSeconds });
    const ctx: ConfigContext = { user, credential, relayUrl: agents.relayPublicUrl, gatewayUrl: agents.gatewayUrl, settings: agents, token: await gatewayToken(user) };
    let rendered: RenderedFile | string;
    try {
      rendered = RENDERERS[agent](ctx, query);
    } catch (err) {
      if (!(err instanceof UnsafeValueError)) throw err;
      deps.warn(`config for ${agent} refused: ${err.message}`);
      return jsonResponse(500, { error: `cannot write a safe config: ${err.message}` });
    }
    if (typeof rendered === 'string') return jsonResponse(400, { error: rendered });
    return file(rendered);
  };
}

function file(rendered: RenderedFile): PlainResponse {
  return {
    status: 200,
    headers: {
      'content-type': rendered.contentType,
      'content-disposition': `attachment; filename="${rendered.filename}"`,
      'x-config-path': rendered.path,
      // Configs carry the user's credential (and maybe a token): never cache them.
      'cache-control': 'no-store',
    },
    body: Buffer.from(rendered.body),
  };
}

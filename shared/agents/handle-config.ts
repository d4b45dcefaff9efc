import { jsonResponse, type PlainRequest, type PlainResponse } from '../http.js';
import { issueCredential, type SigningKeys } from '../identity/relay-credentials.js';
import { signedInUser, type UserSignIn } from '../identity/user-sign-in.js';
import type { SecretCache } from '../secrets.js';
import type { AgentName, Settings } from '../settings.js';
import { claudeCodeManagedSettings, claudeCodeSettings } from './claude-code.js';
import { codexConfig } from './codex.js';
import type { ConfigContext, RenderedFile } from './config-context.js';
import { cursorInstructions } from './cursor.js';
import { gatewayTokenFor } from './gateway-token.js';
import { geminiEnv, geminiSettings } from './gemini-cli.js';
import { installScript } from './install-script.js';
import { UnsafeValueError } from './unsafe-value.js';

export interface ConfigDeps {
  settings: Settings;
  secrets: SecretCache;
  userSignIn: UserSignIn | undefined;
  signingKeys: () => Promise<SigningKeys>;
  warn: (message: string) => void;
}

export type ConfigHandler = (target: string, request: PlainRequest) => Promise<PlainResponse>;

interface AgentConfig {
  /** `short-lived`: the agent fetches its relay credential from POST /api/credential; `long-lived`: it goes into the file. */
  credential: 'long-lived' | 'short-lived';
  /** The file a request asks for (`?format=` for Claude Code and Cursor, `?file=` for Gemini CLI), or why the choice is bad. */
  render(ctx: ConfigContext, query: URLSearchParams): RenderedFile | string;
}

const AGENTS: Record<AgentName, AgentConfig> = {
  'claude-code': {
    credential: 'short-lived',
    render: (ctx, query) => {
      const format = query.get('format') ?? 'settings';
      if (format === 'settings') return claudeCodeSettings(ctx);
      if (format === 'managed') return claudeCodeManagedSettings(ctx);
      return `unknown format "${format}" for claude-code: use ?format=settings (~/.claude/settings.json) or ?format=managed (managed-settings.json for MDM)`;
    },
  },
  codex: { credential: 'long-lived', render: (ctx) => codexConfig(ctx) },
  'gemini-cli': {
    credential: 'long-lived',
    render: (ctx, query) => {
      const file = query.get('file') ?? 'env';
      if (file === 'env') return geminiEnv(ctx);
      if (file === 'settings') return geminiSettings(ctx);
      return `unknown file "${file}" for gemini-cli: use ?file=env (~/.gemini/.env) or ?file=settings (~/.gemini/settings.json)`;
    },
  },
  cursor: {
    credential: 'long-lived',
    render: (ctx, query) => {
      const format = query.get('format') ?? 'text';
      if (format === 'text' || format === 'json') return cursorInstructions(ctx, format);
      return `unknown format "${format}" for cursor: use ?format=text or ?format=json`;
    },
  },
};

/** The Entra ID resource a user's token must be issued for, as the Azure CLI names it; unset without Entra sign-in. */
export function signInAudience(settings: Settings): string | undefined {
  return settings.userSignIn.kind === 'entra' ? settings.userSignIn.audience[0] : undefined;
}

/** GET /api/config/{agent} and /api/config/install.sh, for the signed-in user only. */
export function configHandler(deps: ConfigDeps): ConfigHandler {
  const { settings } = deps;
  const agents = settings.agents;

  return async (target, request) => {
    if (request.method !== 'GET') return jsonResponse(405, { error: `method ${request.method} not allowed: use GET` }, { allow: 'GET' });
    const query = new URL(request.url, 'http://relay').searchParams;
    const isScript = target === 'install.sh';
    if (!isScript && !agents.offered.includes(target as AgentName)) {
      return jsonResponse(404, { error: `unknown agent "${target}"`, supported: agents.offered, installScript: 'install.sh?agents=...' });
    }
    const user = await signedInUser(deps.userSignIn, request.headers);
    if (!agents.relayPublicUrl) return jsonResponse(503, { error: 'setting RELAY_PUBLIC_URL is not set: the relay does not know its public URL' });

    if (isScript) {
      const chosen = (query.get('agents') ?? agents.offered.join(',')).split(',').map((a) => a.trim()).filter(Boolean);
      const unknown = chosen.filter((a) => !agents.offered.includes(a as AgentName));
      if (chosen.length === 0 || unknown.length > 0) {
        return jsonResponse(400, { error: `unknown agent(s): ${unknown.join(', ') || '(none given)'}`, supported: agents.offered });
      }
      const body = installScript({ relayUrl: agents.relayPublicUrl, agents: [...new Set(chosen)] as AgentName[], audience: signInAudience(settings) });
      return file({ filename: 'install.sh', path: 'install.sh', contentType: 'text/x-shellscript; charset=utf-8', body });
    }

    if (!agents.gatewayUrl) return jsonResponse(503, { error: 'setting AI_GATEWAY_URL is not set: the relay cannot write agent configs' });
    const agent = AGENTS[target as AgentName];
    const credential =
      agent.credential === 'long-lived'
        ? (await issueCredential(await deps.signingKeys(), { userId: user.id, email: user.email, agent: target as AgentName, ttlSeconds: settings.credentialTtlSeconds })).credential
        : undefined;
    const ctx: ConfigContext = {
      user,
      credential,
      relayUrl: agents.relayPublicUrl,
      gatewayUrl: agents.gatewayUrl,
      audience: signInAudience(settings),
      shortCredentialMinutes: settings.shortCredentialTtlSeconds / 60,
      settings: agents,
      token: await gatewayTokenFor(user, agents, deps.secrets, deps.warn),
    };
    let rendered: RenderedFile | string;
    try {
      rendered = agent.render(ctx, query);
    } catch (err) {
      if (!(err instanceof UnsafeValueError)) throw err;
      deps.warn(`config for ${target} refused: ${err.message}`);
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

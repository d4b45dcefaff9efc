import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The agent CLIs the end-to-end tests run, at the versions the reference material was gathered with. */
export const AGENT_CLIS = {
  claude: '@anthropic-ai/claude-code@2.1.197',
  codex: '@openai/codex@0.169.0',
  gemini: '@google/gemini-cli@0.61.0',
} as const;

// Outside node_modules so that `npm ci` keeps it; AGENT_CLI_CACHE moves it, XDG_CACHE_HOME is honoured.
const DIR = process.env.AGENT_CLI_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'coding-agent-relay', 'agent-clis');

/**
 * Installs the pinned CLIs once into the user's cache folder (kept out of package-lock.json: Codex ships
 * per-platform binaries as aliased optional packages) and returns the path of each binary.
 */
export function agentClis(): Record<keyof typeof AGENT_CLIS, string> {
  const bin = (name: string) => join(DIR, 'node_modules', '.bin', name);
  const stamp = join(DIR, `installed-${Object.values(AGENT_CLIS).join('+').replace(/[@/]/g, '_')}`);
  if (!existsSync(stamp) || !Object.keys(AGENT_CLIS).every((name) => existsSync(bin(name)))) {
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', DIR, ...Object.values(AGENT_CLIS)], { stdio: 'inherit' });
    execFileSync('touch', [stamp]);
  }
  return { claude: bin('claude'), codex: bin('codex'), gemini: bin('gemini') };
}

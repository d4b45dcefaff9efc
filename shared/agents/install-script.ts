import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AgentName } from '../settings.js';
import { CLAUDE_CODE_OWNED_KEYS } from './claude-code.js';
import { CODEX_OWNED_KEYS } from './codex.js';
import { GEMINI_ENV_OWNED_KEYS, GEMINI_SETTINGS_OWNED_KEYS } from './gemini-cli.js';
import { MERGE_JS } from './merge-script.js';
import { shQuote } from './unsafe-value.js';

/*
 * GET /api/config/install.sh?agents=...: a POSIX sh script that fetches the chosen configs with the
 * caller's token and merges them into the files the agents read (see merge-script.ts), keeping a
 * timestamped backup of every file it changes and printing what it changed. It ships smol-toml (the
 * TOML library the app writes Codex's config with) so TOML is read and checked by a real parser.
 */

/** smol-toml's CommonJS build and licence, read once from the app's own node_modules. */
let smolToml: { source: string; license: string; version: string } | undefined;
function smolTomlSource() {
  if (!smolToml) {
    const entry = createRequire(import.meta.url).resolve('smol-toml');
    const root = join(dirname(entry), '..');
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    smolToml = { source: readFileSync(entry, 'utf8'), license: readFileSync(join(root, 'LICENSE'), 'utf8'), version };
  }
  return smolToml;
}

export interface InstallScriptOptions {
  relayUrl: string;
  agents: AgentName[];
  /** The Entra ID audience to request a token for with the Azure CLI; undefined: no token needed (local). */
  audience: string | undefined;
}

/** One `install` line: fetch `<agent><query>`, merge it as `kind` into `target`, owning `owned`. */
function step(agent: AgentName, query: string, kind: 'json' | 'env' | 'toml', target: string, owned: string[]): string {
  return `  install ${agent} ${shQuote(query)} ${kind} "${target}" ${shQuote(JSON.stringify(owned))}`;
}

export function installScript(options: InstallScriptOptions): string {
  const steps: Record<AgentName, string> = {
    'claude-code': step('claude-code', '', 'json', '$HOME/.claude/settings.json', CLAUDE_CODE_OWNED_KEYS),
    codex: step('codex', '', 'toml', '${CODEX_HOME:-$HOME/.codex}/config.toml', CODEX_OWNED_KEYS),
    'gemini-cli': [
      step('gemini-cli', '?file=env', 'env', '$HOME/.gemini/.env', GEMINI_ENV_OWNED_KEYS),
      step('gemini-cli', '?file=settings', 'json', '$HOME/.gemini/settings.json', GEMINI_SETTINGS_OWNED_KEYS),
    ].join('\n'),
    cursor: `  fetch cursor "$TMP/cursor.txt" && cat "$TMP/cursor.txt" || FAILED=1`,
  };
  const cases = options.agents.map((agent) => `echo "${agent}:"\n${steps[agent]}`).join('\n');
  const smol = smolTomlSource();
  return `#!/bin/sh
# coding-agent-relay: installs agent configs (${options.agents.join(', ')}).
# Merges into existing files, keeps a timestamped backup of each file it changes, changes nothing when
# run again. Needs curl and node; the token comes from RELAY_TOKEN or the Azure CLI (az login).
set -u
RELAY_URL=${shQuote(options.relayUrl)}
AUDIENCE=${shQuote(options.audience ?? '')}
for tool in curl node; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install.sh: $tool is required but not found on PATH: install it and run this script again" >&2; exit 1; }
done
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
export STAMP
umask 077
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
: > "$TMP/headers"
if [ -n "\${RELAY_TOKEN:-}" ]; then
  printf 'Authorization: Bearer %s\\n' "$RELAY_TOKEN" > "$TMP/headers"
elif [ -n "$AUDIENCE" ]; then
  command -v az >/dev/null 2>&1 || { echo "install.sh: the Azure CLI (az) is required to sign in: install it and run az login, or set RELAY_TOKEN" >&2; exit 1; }
  TOKEN=$(az account get-access-token --resource "$AUDIENCE" --query accessToken -o tsv) || {
    echo "install.sh: could not get a token: run az login, or set RELAY_TOKEN" >&2; exit 1; }
  printf 'Authorization: Bearer %s\\n' "$TOKEN" > "$TMP/headers"
fi
SMOL_TOML="$TMP/smol-toml.cjs"
export SMOL_TOML
# smol-toml ${smol.version} (https://github.com/squirrelchat/smol-toml), shipped whole under its licence:
${smol.license.trim().split('\n').map((l) => `# ${l}`.trimEnd()).join('\n')}
cat > "$SMOL_TOML" <<'SMOL_TOML_SOURCE'
${smol.source.trim()}
SMOL_TOML_SOURCE
cat > "$TMP/merge.cjs" <<'MERGE_JS_SOURCE'
${MERGE_JS.trim()}
MERGE_JS_SOURCE
FAILED=0
# GET <relay>/api/config/<path> into a file; on failure print the relay's own message, not only the status.
fetch() {
  code=$(curl -sS -H @"$TMP/headers" -o "$2" -w '%{http_code}' "$RELAY_URL/api/config/$1") || { echo "  $RELAY_URL/api/config/$1: request failed (see curl's message above)" >&2; return 1; }
  [ "$code" = 200 ] && return 0
  echo "  $RELAY_URL/api/config/$1 answered $code: $(cat "$2")" >&2
  return 1
}
install() {
  fetch "$1$2" "$TMP/incoming" && node "$TMP/merge.cjs" "$3" "$4" "$TMP/incoming" "$5" || FAILED=1
}
${cases}
if [ "$FAILED" != 0 ]; then echo "install.sh: some files were not installed (see above); the others are in place" >&2; exit 1; fi
`;
}

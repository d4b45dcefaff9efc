import type { AgentName } from '../settings.js';

/*
 * GET /api/config/install.sh?agents=...: a POSIX sh script that fetches the chosen configs with the
 * caller's token and merges them into the files the agents read, keeping a timestamped backup of
 * every file it changes and printing what it changed. Running it twice changes nothing the second
 * time. The merging runs in node (every agent needs it), with no packages: JSON objects are merged
 * key by key, .env files line by line, and TOML by whole tables (the relay's tables replace any
 * earlier version of themselves, other tables and keys are kept as they are).
 */

/** Runs on the user's machine: `node merge.cjs <json|env|toml> <target> <incoming>`. */
export const MERGE_JS = String.raw`
'use strict';
const fs = require('fs');
const path = require('path');
const [kind, target, incomingFile] = process.argv.slice(2);
const incoming = fs.readFileSync(incomingFile, 'utf8');
const existing = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
const changes = [];

function isObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

function mergeJson(base, add, prefix) {
  for (const [key, value] of Object.entries(add)) {
    const name = prefix ? prefix + '.' + key : key;
    if (isObject(value) && isObject(base[key])) { mergeJson(base[key], value, name); continue; }
    if (JSON.stringify(base[key]) === JSON.stringify(value)) continue;
    changes.push((key in base ? 'updated ' : 'added ') + name);
    base[key] = value;
  }
  return base;
}

const ENV_LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;
function mergeEnv(text, add) {
  const lines = text === '' ? [] : text.replace(/\n+$/, '').split('\n');
  for (const line of add.split('\n')) {
    const m = ENV_LINE.exec(line);
    if (!m) continue;
    const at = lines.findIndex((l) => (ENV_LINE.exec(l) || [])[1] === m[1]);
    if (at === -1) { lines.push(line); changes.push('added ' + m[1]); }
    else if (lines[at] !== line) { lines[at] = line; changes.push('updated ' + m[1]); }
  }
  return lines.join('\n') + '\n';
}

const TABLE = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/;
const KEY = /^\s*([A-Za-z0-9_-]+)\s*=/;
function tomlBlocks(text) {
  const top = [];
  const tables = [];
  let current = null;
  for (const line of text.split('\n')) {
    const m = TABLE.exec(line);
    if (m) { current = { name: m[1].replace(/\s+/g, ''), lines: [line] }; tables.push(current); }
    else (current ? current.lines : top).push(line);
  }
  return { top, tables };
}
function trimBlank(lines) {
  const out = lines.slice();
  while (out.length && out[out.length - 1].trim() === '') out.pop();
  while (out.length && out[0].trim() === '') out.shift();
  return out;
}
function mergeToml(text, add) {
  const mine = tomlBlocks(text);
  const theirs = tomlBlocks(add);
  const top = trimBlank(mine.top);
  for (const line of trimBlank(theirs.top)) {
    const m = KEY.exec(line);
    if (!m) continue;
    const at = top.findIndex((l) => (KEY.exec(l) || [])[1] === m[1]);
    if (at === -1) { top.push(line); changes.push('added ' + m[1]); }
    else if (top[at] !== line) { top[at] = line; changes.push('updated ' + m[1]); }
  }
  // The relay owns its tables whole, with their subtables: [otel], [model_providers.<id>], ...
  const names = theirs.tables.map((t) => t.name);
  const roots = names.filter((n) => !names.some((o) => o !== n && n.startsWith(o + '.')));
  const owned = (n) => roots.some((r) => n === r || n.startsWith(r + '.'));
  const kept = mine.tables.filter((t) => !owned(t.name));
  for (const root of roots) {
    const before = mine.tables.filter((t) => t.name === root || t.name.startsWith(root + '.')).map((t) => trimBlank(t.lines).join('\n')).join('\n\n');
    const after = theirs.tables.filter((t) => t.name === root || t.name.startsWith(root + '.')).map((t) => trimBlank(t.lines).join('\n')).join('\n\n');
    if (before === '') changes.push('added [' + root + ']');
    else if (before !== after) changes.push('replaced [' + root + ']');
  }
  const blocks = [top.join('\n'), ...kept.map((t) => trimBlank(t.lines).join('\n')), ...theirs.tables.map((t) => trimBlank(t.lines).join('\n'))];
  return blocks.filter((b) => b !== '').join('\n\n') + '\n';
}

let merged;
if (kind === 'json') {
  let base = {};
  if (existing !== null && existing.trim() !== '') {
    try { base = JSON.parse(existing); } catch (e) { console.error('  ' + target + ': not valid JSON, left alone (' + e.message + ')'); process.exit(1); }
  }
  merged = JSON.stringify(mergeJson(base, JSON.parse(incoming), ''), null, 2) + '\n';
} else if (kind === 'env') {
  merged = existing === null ? incoming : mergeEnv(existing, incoming);
} else if (kind === 'toml') {
  merged = existing === null ? incoming : mergeToml(existing, incoming);
} else {
  throw new Error('unknown kind ' + kind);
}
if (existing === null) changes.splice(0, changes.length, 'created');
if (merged === existing) { console.log('  ' + target + ': unchanged'); process.exit(0); }
fs.mkdirSync(path.dirname(target), { recursive: true });
if (existing !== null) {
  const backup = target + '.bak.' + process.env.STAMP;
  fs.copyFileSync(target, backup);
  console.log('  ' + target + ': backup in ' + backup);
}
fs.writeFileSync(target, merged, { mode: 0o600 });
console.log('  ' + target + ': ' + changes.join(', '));
`;

/** Single-quoted for sh: the only character that needs care inside '...' is ' itself. */
function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

export interface InstallScriptOptions {
  relayUrl: string;
  agents: AgentName[];
  /** The Entra ID audience to request a token for with the Azure CLI; undefined: no token needed (local). */
  audience: string | undefined;
}

export function installScript(options: InstallScriptOptions): string {
  const steps: Record<AgentName, string> = {
    'claude-code': `  install claude-code '' json "$HOME/.claude/settings.json"`,
    codex: `  install codex '' toml "\${CODEX_HOME:-$HOME/.codex}/config.toml"`,
    'gemini-cli': `  install gemini-cli '?file=env' env "$HOME/.gemini/.env"\n  install gemini-cli '?file=settings' json "$HOME/.gemini/settings.json"`,
    cursor: `  fetch cursor "$TMP/cursor.txt" && cat "$TMP/cursor.txt"`,
  };
  const cases = options.agents.map((agent) => `  echo "${agent}:"\n${steps[agent]}`).join('\n');
  return `#!/bin/sh
# coding-agent-relay: installs agent configs (${options.agents.join(', ')}).
# Merges into existing files, keeps a timestamped backup of each file it changes, changes nothing when
# run again. Needs curl and node; the token comes from RELAY_TOKEN or the Azure CLI (az login).
set -eu
RELAY_URL=${shQuote(options.relayUrl)}
AUDIENCE=${shQuote(options.audience ?? '')}
command -v node >/dev/null 2>&1 || { echo "install.sh: node is required" >&2; exit 1; }
command -v curl >/dev/null 2>&1 || { echo "install.sh: curl is required" >&2; exit 1; }
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
export STAMP
umask 077
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
: > "$TMP/headers"
if [ -n "\${RELAY_TOKEN:-}" ]; then
  printf 'Authorization: Bearer %s\\n' "$RELAY_TOKEN" > "$TMP/headers"
elif [ -n "$AUDIENCE" ]; then
  TOKEN=$(az account get-access-token --resource "$AUDIENCE" --query accessToken -o tsv) || {
    echo "install.sh: could not get a token: run az login, or set RELAY_TOKEN" >&2; exit 1; }
  printf 'Authorization: Bearer %s\\n' "$TOKEN" > "$TMP/headers"
fi
cat > "$TMP/merge.cjs" <<'MERGE_JS'
${MERGE_JS.trim()}
MERGE_JS
fetch() {
  curl -fsS -H @"$TMP/headers" "$RELAY_URL/api/config/$1" -o "$2"
}
install() {
  fetch "$1$2" "$TMP/incoming" && node "$TMP/merge.cjs" "$3" "$4" "$TMP/incoming"
}
${cases}
`;
}

/*
 * The merge program install.sh runs on the user's machine with node (no packages besides smol-toml,
 * which the script ships):
 *   node merge.cjs <json|env|toml> <target file> <incoming file> <owned keys as JSON>
 * The app owns a fixed list of keys per file (dotted paths; a table is owned whole). The merge keeps
 * everything else the user has, byte for byte where the format allows (TOML and .env are edited as
 * text, JSON is re-serialised in the user's key order and indentation), replaces the owned keys with
 * the incoming values and removes owned keys the incoming file no longer sets. A placeholder never
 * replaces a value the user pasted. It writes nothing when the owned values are already right
 * ("unchanged"), and nothing that does not parse back to exactly what was intended; a file it cannot
 * parse, a read-only file or a broken symlink is left alone with a message naming the file (and the
 * line). Line endings (CRLF) and a byte order mark are kept; a symlink is written through.
 */
export const MERGE_JS = String.raw`
'use strict';
const fs = require('fs');
const path = require('path');
const toml = require(process.env.SMOL_TOML);
const PLACEHOLDER = 'REPLACE_WITH_YOUR_DATABRICKS_TOKEN';
const [kind, target, incomingFile, ownedJson] = process.argv.slice(2);
const owned = JSON.parse(ownedJson).map((p) => p.split('.'));

class Refusal extends Error {}
function refuse(message) { throw new Refusal(message); }

function isObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date); }
function canon(v) {
  if (typeof v === 'bigint') return v.toString() + 'n';
  if (v instanceof Date) return 'date:' + String(v);
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  if (isObject(v)) return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}';
  return JSON.stringify(v);
}
function getPath(obj, p) {
  let v = obj;
  for (const k of p) { if (!isObject(v) || !Object.prototype.hasOwnProperty.call(v, k)) return undefined; v = v[k]; }
  return v;
}
function deletePath(obj, p) {
  const parent = getPath(obj, p.slice(0, -1));
  if (isObject(parent)) delete parent[p[p.length - 1]];
}
function setPath(obj, p, value) {
  let v = obj;
  for (const k of p.slice(0, -1)) { if (!isObject(v[k])) v[k] = {}; v = v[k]; }
  v[p[p.length - 1]] = value;
}
function clone(v) { return v === undefined ? undefined : isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) : Array.isArray(v) ? v.map(clone) : v; }

/** The owned values the file should hold: incoming's, except a placeholder where the user has a value. */
function wanted(existing, incoming) {
  return owned.map((p) => {
    let value = getPath(incoming, p);
    const mine = getPath(existing, p);
    if (value === PLACEHOLDER && typeof mine === 'string' && mine !== '' && mine !== PLACEHOLDER) value = mine;
    return { p, value: clone(value) };
  });
}
/** The whole document as it should be: the user's with the owned keys replaced (in place where they were). */
function apply(existing, want) {
  const out = clone(existing);
  for (const { p, value } of want) {
    if (value === undefined) deletePath(out, p);
    else setPath(out, p, value);
  }
  return out;
}
function describe(existing, want) {
  const changes = [];
  for (const { p, value } of want) {
    const before = getPath(existing, p);
    if (canon(before) === canon(value)) continue;
    changes.push((value === undefined ? 'removed ' : before === undefined ? 'added ' : 'updated ') + p.join('.'));
  }
  return changes;
}

// ---- JSON ----
function lineOfPosition(text, message) {
  const m = /position (\d+)/.exec(message) || [];
  const lc = /line (\d+)/.exec(message);
  if (lc) return Number(lc[1]);
  return m[1] === undefined ? undefined : text.slice(0, Number(m[1])).split('\n').length;
}
const json = {
  parse(text, file) {
    if (text.trim() === '') return {};
    let v;
    try { v = JSON.parse(text); } catch (e) {
      const line = lineOfPosition(text, e.message);
      refuse(file + ': not valid JSON' + (line ? ' at line ' + line : '') + ' (' + e.message + ')');
    }
    if (!isObject(v)) refuse(file + ': not a JSON object');
    return v;
  },
  render(text, existing, want) {
    const indent = (/\n([ \t]+)"/.exec(text) || [, '  '])[1];
    return JSON.stringify(apply(existing, want), null, indent) + '\n';
  },
};

// ---- .env (read as the dotenv package reads it; Gemini CLI uses it) ----
const ENV_LINE = /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*\x60(?:\\\x60|[^\x60])*\x60|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/mg;
function envEntries(text) {
  const out = [];
  const src = text.replace(/\r\n?/g, '\n');
  ENV_LINE.lastIndex = 0;
  let m;
  while ((m = ENV_LINE.exec(src)) !== null) {
    let value = (m[2] || '').trim();
    const quote = value[0];
    value = value.replace(/^(['"\x60])([\s\S]*)\1$/mg, '$2');
    if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
    out.push({ name: m[1], value, start: m.index, end: m.index + m[0].length });
    if (m[0].length === 0) ENV_LINE.lastIndex++;
  }
  return { src, entries: out };
}
const env = {
  parse(text) {
    const obj = {};
    for (const e of envEntries(text).entries) obj[e.name] = e.value;
    return obj;
  },
  render(text, existing, want, incomingText) {
    const names = new Set(owned.map((p) => p[0]));
    const { src, entries } = envEntries(text);
    // Remove every definition of an owned name, with its line end; then append the wanted lines.
    let kept = '';
    let at = 0;
    for (const e of entries.filter((e) => names.has(e.name))) {
      kept += src.slice(at, e.start);
      at = e.end;
      if (src[at] === '\n') at++;
    }
    kept += src.slice(at);
    const lineOf = (from, name) => {
      const found = from.entries.filter((e) => e.name === name).pop();
      return found && from.src.slice(found.start, found.end).trim();
    };
    const theirs = envEntries(incomingText);
    const mine = envEntries(text);
    const add = [];
    for (const { p, value } of want) {
      if (value === undefined) continue;
      // The relay's line, or the user's own when their pasted value is kept.
      const line = [lineOf(theirs, p[0]), lineOf(mine, p[0])].find((l) => l !== undefined && env.parse(l)[p[0]] === value);
      if (line === undefined) refuse(target + ': cannot write ' + p[0] + ' safely');
      add.push(line);
    }
    const body = kept.replace(/\n*$/, '');
    return (body === '' ? '' : body + '\n') + add.join('\n') + '\n';
  },
};
// ---- TOML (edited as text: statements located by a scanner, the result checked by smol-toml) ----
function scanToml(src) {
  const statements = [];
  let i = 0;
  let table = [];
  const n = src.length;
  const ws = () => { while (i < n && (src[i] === ' ' || src[i] === '\t')) i++; };
  const toEol = () => { while (i < n && src[i] !== '\n') i++; if (i < n) i++; };
  function key() {
    const parts = [];
    for (;;) {
      ws();
      if (src[i] === '"') {
        let j = i + 1;
        while (j < n && src[j] !== '"' && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
        if (src[j] !== '"') return null;
        parts.push(Object.keys(toml.parse(src.slice(i, j + 1) + ' = 0'))[0]);
        i = j + 1;
      } else if (src[i] === "'") {
        const j = src.indexOf("'", i + 1);
        parts.push(src.slice(i + 1, j));
        i = j + 1;
      } else {
        const m = /^[A-Za-z0-9_-]+/.exec(src.slice(i, i + 512));
        if (!m) return null;
        parts.push(m[0]);
        i += m[0].length;
      }
      ws();
      if (src[i] !== '.') return parts;
      i++;
    }
  }
  function skipString() {
    const q = src[i];
    if (src.startsWith(q + q + q, i)) {
      i += 3;
      for (;;) {
        if (i >= n) return;
        if (q === '"' && src[i] === '\\') { i += 2; continue; }
        if (src.startsWith(q + q + q, i)) { i += 3; while (src[i] === q) i++; return; }
        i++;
      }
    }
    i++;
    while (i < n && src[i] !== q && src[i] !== '\n') i += q === '"' && src[i] === '\\' ? 2 : 1;
    i++;
  }
  function skipValue() {
    let depth = 0;
    while (i < n) {
      const c = src[i];
      if (c === '"' || c === "'") { skipString(); continue; }
      if (c === '[' || c === '{') { depth++; i++; continue; }
      if (c === ']' || c === '}') { depth--; i++; continue; }
      if (c === '#') { if (depth === 0) return; while (i < n && src[i] !== '\n') i++; continue; }
      if (c === '\n' && depth === 0) return;
      i++;
    }
  }
  while (i < n) {
    const start = i;
    ws();
    if (src[i] === '\n' || src[i] === '\r' || src[i] === '#' || i >= n) { toEol(); statements.push({ kind: 'other', start, end: i }); continue; }
    if (src[i] === '[') {
      const array = src[i + 1] === '[';
      i += array ? 2 : 1;
      const k = key();
      if (k === null) return null;
      table = k;
      toEol();
      statements.push({ kind: 'header', array, path: k, start, end: i });
      continue;
    }
    const k = key();
    if (k === null || src[i] !== '=') return null;
    i++;
    ws();
    skipValue();
    toEol();
    statements.push({ kind: 'kv', path: table.concat(k), keyLength: k.length, table, start, end: i });
  }
  return statements;
}
const under = (p, o) => o.length <= p.length && o.every((k, j) => p[j] === k);
const isOwned = (p) => owned.some((o) => under(p, o));
function tomlKey(k) { return /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k); }
function tomlInline(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return '[' + v.map(tomlInline).join(', ') + ']';
  if (isObject(v)) return '{ ' + Object.entries(v).map(([k, x]) => tomlKey(k) + ' = ' + tomlInline(x)).join(', ') + ' }';
  refuse('cannot write a ' + typeof v + ' into TOML');
}
function nest(p, obj) { return p.reduceRight((inner, k) => ({ [k]: inner }), obj); }
const tomlFormat = {
  parse(text, file) {
    try { return toml.parse(text, { integersAsBigInt: 'asNeeded' }); } catch (e) {
      refuse(file + ': not valid TOML' + (e.line ? ' at line ' + e.line : '') + ' (' + String(e.message).split('\n')[0].replace(/^Invalid TOML document: /, '') + ')');
    }
  },
  render(text, existing, want) {
    const src = text.replace(/\r\n/g, '\n');
    const statements = scanToml(src);
    if (statements === null) refuse(target + ': a TOML layout this script cannot edit safely; left alone');
    let ownedSection = false;
    const keep = statements.filter((s) => {
      if (s.kind === 'header') ownedSection = isOwned(s.path);
      if (ownedSection) return false;
      return !(s.kind === 'kv' && isOwned(s.path));
    });
    // Where each new key goes: into its table's own section, next to keys that define the table by
    // dotted keys, at the end of the top-level keys, or in a new section at the end of the file.
    const expected = apply(existing, want);
    const inserts = new Map();
    const replaced = new Map();
    const appendix = [];
    const groups = new Map();
    for (const { p, value } of want) {
      if (value === undefined) continue;
      const parent = p.slice(0, -1).join('\u0000');
      if (!groups.has(parent)) groups.set(parent, []);
      groups.get(parent).push({ p, value });
    }
    for (const [parentKey, items] of groups) {
      const parent = parentKey === '' ? [] : parentKey.split('\u0000');
      const same = (a, b) => a.length === b.length && a.every((k, j) => k === b[j]);
      let anchor = -1;
      let prefix = [];
      const header = keep.findIndex((s) => s.kind === 'header' && !s.array && same(s.path, parent));
      const inline = keep.findIndex((s) => s.kind === 'kv' && same(s.path, parent));
      if (inline !== -1) {
        // The table is an inline table, closed to additions: write it again whole, with the new keys.
        const s = keep[inline];
        replaced.set(inline, s.path.slice(s.table.length).map(tomlKey).join('.') + ' = ' + tomlInline(getPath(expected, parent)));
        continue;
      }
      if (parent.length === 0 || header !== -1) {
        const sectionStart = parent.length === 0 ? -1 : header;
        let end = keep.findIndex((s, j) => j > sectionStart && s.kind === 'header');
        if (end === -1) end = keep.length;
        anchor = sectionStart;
        for (let j = sectionStart + 1; j < end; j++) if (keep[j].kind === 'kv') anchor = j;
      } else {
        const dotted = keep.map((s, j) => [s, j]).filter(([s]) => s.kind === 'kv' && s.path.length > parent.length && under(s.path, parent) && s.table.length < parent.length);
        if (dotted.length > 0) {
          const [s, j] = dotted[dotted.length - 1];
          anchor = j;
          prefix = parent.slice(s.table.length);
        } else {
          appendix.push(toml.stringify(nest(parent, Object.fromEntries(items.map(({ p, value }) => [p[p.length - 1], value])))).trim());
          continue;
        }
      }
      const lines = items.map(({ p, value }) => prefix.concat(p[p.length - 1]).map(tomlKey).join('.') + ' = ' + tomlInline(value));
      inserts.set(anchor, (inserts.get(anchor) || []).concat(lines));
    }
    let out = (inserts.get(-1) || []).map((l) => l + '\n').join('');
    if (out !== '' && keep.length > 0 && keep[0].kind === 'header') out += '\n';
    keep.forEach((s, j) => {
      let piece = replaced.has(j) ? replaced.get(j) + '\n' : src.slice(s.start, s.end);
      if (inserts.has(j)) {
        if (!piece.endsWith('\n')) piece += '\n';
        piece += inserts.get(j).map((l) => l + '\n').join('');
      }
      out += piece;
    });
    out = out.replace(/\n*$/, '\n');
    if (out.trim() === '') out = '';
    for (const block of appendix) out += (out === '' ? '' : '\n') + block + '\n';
    return out;
  },
};

const formats = { json, env, toml: tomlFormat };

function main() {
  const format = formats[kind];
  if (!format) refuse('unknown kind ' + kind);
  const incomingText = fs.readFileSync(incomingFile, 'utf8');
  const incoming = format.parse(incomingText, 'the file the relay sent');
  let file = target;
  let link = '';
  let st = null;
  try { st = fs.lstatSync(target); } catch (e) { if (e.code !== 'ENOENT') throw e; }
  if (st && st.isSymbolicLink()) {
    try { file = fs.realpathSync(target); } catch { refuse(target + ': a symlink to a missing file; left alone'); }
    link = ' (through the symlink to ' + file + ')';
    st = fs.statSync(file);
  }
  if (st && !st.isFile()) refuse(target + ': not a regular file; left alone');
  if (st && (st.mode & 0o200) === 0) refuse(target + ': read-only; left alone (make it writable to install)');
  const raw = st ? fs.readFileSync(file, 'utf8') : null;
  const bom = raw !== null && raw.startsWith('\uFEFF') ? '\uFEFF' : '';
  const text = raw === null ? '' : raw.slice(bom.length);
  const crlf = /\r\n/.test(text);
  const existing = format.parse(text, target);
  const want = wanted(existing, incoming);
  const expected = apply(existing, want);
  if (raw !== null && canon(expected) === canon(existing)) { console.log('  ' + target + ': unchanged'); return 0; }
  let merged = raw === null || text.trim() === '' ? incomingText : format.render(text, existing, want, incomingText);
  // Never write something other than intended: the result must parse back to exactly the merge.
  if (canon(format.parse(merged, 'the merged ' + target)) !== canon(expected)) refuse(target + ': the merged file would not read back as intended; left alone');
  if (crlf) merged = merged.replace(/\r?\n/g, '\r\n');
  merged = bom + merged;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (raw !== null) {
    const backup = target + '.bak.' + process.env.STAMP;
    fs.copyFileSync(file, backup);
    console.log('  ' + target + ': backup in ' + backup);
  }
  // Written beside the file and renamed over it: an interrupted run never leaves half a file.
  const tmp = file + '.tmp-' + process.pid;
  fs.writeFileSync(tmp, merged, { mode: st ? st.mode & 0o777 : 0o600 });
  fs.renameSync(tmp, file);
  const changes = raw === null ? ['created'] : describe(existing, want);
  console.log('  ' + target + ': ' + changes.join(', ') + link);
  return 0;
}

try { process.exitCode = main(); } catch (e) {
  if (!(e instanceof Refusal)) throw e;
  console.error('  ' + e.message);
  process.exitCode = 1;
}
`;

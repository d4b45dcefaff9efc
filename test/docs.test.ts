import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROUTE_PREFIX, ROUTES } from '../shared/routes.js';

/*
 * Keeps the README and docs/ navigable and in step with the tree: the README stays a quick start, it
 * links every page, every relative link and anchor resolves, every repository path the pages name
 * exists, and the reference tables cover what the code has (routes, usage columns). The settings table
 * is checked against the code in deploy.test.ts; the README's "Try it" block runs in e2e/readme-try-it.test.ts.
 */

const ROOT = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const PAGES = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
const DOCUMENTS = ['README.md', ...PAGES];

/** The text without fenced code blocks (their contents are commands and output, not links). */
const prose = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '');

/** Markdown links and images: [text](target). */
function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const m of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n === 0 ? base : `${base}-${n}`);
  }
  return result;
}

const TRACKED = new Set(execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean));
const exists = (path: string) => TRACKED.has(path) || [...TRACKED].some((file) => file.startsWith(`${path.replace(/\/$/, '')}/`));

describe('the README', () => {
  const readme = read('README.md');

  it('stays a quick start of at most 10 KiB', () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThanOrEqual(10 * 1024);
  });

  it('links every page in docs/', () => {
    const linked = new Set(links(readme).map((target) => target.split('#')[0]));
    expect(PAGES.filter((page) => !linked.has(page))).toEqual([]);
    expect(PAGES.length).toBeGreaterThanOrEqual(9);
  });

  it('keeps the markers of the tested "Try it" block', () => {
    expect(readme).toMatch(/<!-- try-it:start.*?-->\s*```sh\n[\s\S]*?```\s*<!-- try-it:end -->/);
  });
});

describe.each(DOCUMENTS)('%s', (document) => {
  const text = read(document);

  it('has relative links that resolve to files, and anchors that resolve to headings', () => {
    const broken: string[] = [];
    for (const target of links(text)) {
      if (/^[a-z]+:/i.test(target)) continue; // http(s), mailto: not ours to check here
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = path === '' ? document : normalize(join(dirname(document), path));
      if (!existsSync(join(ROOT, file))) {
        broken.push(target);
        continue;
      }
      if (anchor !== undefined && file.endsWith('.md') && !anchors(read(file)).has(anchor)) broken.push(target);
    }
    expect(broken).toEqual([]);
  });

  it('names only repository paths that exist', () => {
    const named = [...prose(text).matchAll(/`((?:shared|functions|test|infra|scripts|docs)\/[^`\s]*)`/g)].map((m) => m[1]!);
    const checked = named.filter((path) => !/[<>*{}]/.test(path));
    expect(checked.filter((path) => !exists(path))).toEqual([]);
  });
});

describe('the reference pages', () => {
  it('list every route of shared/routes.ts in docs/routes.md', () => {
    const page = read('docs/routes.md');
    const missing = ROUTES.map((route) => `${ROUTE_PREFIX}/${route.path}`)
      .map((path) => path.replace('{signal}', 'metrics'))
      .filter((path) => !page.includes(path));
    expect(missing).toEqual([]);
  });

  it('give every column of the usage table a row in docs/usage.md', () => {
    const columns = [...read('infra/sql/usage_daily.sql').matchAll(/^\s+([a-z_]+) [A-Z]+,?$/gm)].map((m) => m[1]!);
    expect(columns.length).toBeGreaterThan(30);
    const rows = read('docs/usage.md').split('\n').filter((line) => line.startsWith('| `'));
    const documented = new Set(rows.flatMap((row) => [...row.split(' | ')[0]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!)));
    expect(columns.filter((column) => !documented.has(column))).toEqual([]);
  });
});

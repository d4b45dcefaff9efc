import { GROUP_KEY_NAMES, type GroupKey } from './usage-columns.js';
import { isoDay, parseRange, recentDays, UsageRangeError } from './rollup-usage.js';

/** What GET /api/usage asks for, validated. */
export interface UsageQuery {
  /** First and last UTC day, YYYY-MM-DD, inclusive. */
  from: string;
  to: string;
  groupBy: GroupKey[];
  /** Exact matches; `user` matches the user's id or email. */
  filters: { agent?: string; user?: string; model?: string };
  format: 'json' | 'csv';
}

/** Bad input, naming the query parameter at fault (the 400's `parameter`). */
export class UsageQueryError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

const FILTERS = ['agent', 'user', 'model'] as const;
const KNOWN = new Set(['from', 'to', 'group_by', 'format', ...FILTERS]);
const DEFAULT_DAYS = 30;
/** Agents, models and users are short printable names; anything else is a mistake, not a filter. */
const FILTER_VALUE = /^[\p{L}\p{N} ._@:/+-]{1,200}$/u;

function single(search: URLSearchParams, name: string): string | undefined {
  const values = search.getAll(name);
  if (values.length > 1) throw new UsageQueryError(name, `${name}: given ${values.length} times; give it once`);
  return values[0];
}

function groupBy(value: string | undefined): GroupKey[] {
  if (value === undefined || value.trim() === '') return [];
  const keys = value.split(',').map((k) => k.trim());
  const seen = new Set<string>();
  for (const key of keys) {
    if (!(GROUP_KEY_NAMES as readonly string[]).includes(key)) throw new UsageQueryError('group_by', `group_by: unknown key "${key}"; use any of ${GROUP_KEY_NAMES.join(', ')}, comma-separated`);
    if (seen.has(key)) throw new UsageQueryError('group_by', `group_by: "${key}" given twice`);
    seen.add(key);
  }
  return keys as GroupKey[];
}

function format(value: string | undefined, accept: string | undefined): 'json' | 'csv' {
  if (value === undefined) return /(^|,)\s*text\/csv\s*(;|,|$)/i.test(accept ?? '') ? 'csv' : 'json';
  if (value === 'json' || value === 'csv') return value;
  throw new UsageQueryError('format', `format: expected json or csv, got "${value}"`);
}

/**
 * Reads `from`, `to` (default: the last 30 days up to today, UTC), `group_by`, the filters and the
 * format (`format=` wins over `Accept: text/csv`). Unknown or repeated parameters are refused, so a
 * typo never silently widens the answer.
 */
export function parseUsageQuery(search: URLSearchParams, accept: string | undefined, options: { maxDays: number; now?: Date }): UsageQuery {
  for (const name of new Set(search.keys())) {
    if (!KNOWN.has(name)) throw new UsageQueryError(name, `unknown parameter "${name}"; known: ${[...KNOWN].join(', ')}`);
  }
  const today = recentDays(options.now ?? new Date(), 1).to;
  const to = single(search, 'to') ?? today;
  let from = single(search, 'from');
  if (from === undefined) {
    // Defaulted from a valid `to` only: a bad `to` is reported as such below.
    const toDay = Date.parse(`${to}T00:00:00Z`) / 86_400_000;
    from = Number.isInteger(toDay) ? isoDay(toDay - Math.min(DEFAULT_DAYS, options.maxDays) + 1) : to;
  }
  try {
    parseRange({ from, to }, options.maxDays);
  } catch (err) {
    if (err instanceof UsageRangeError) throw new UsageQueryError(err.parameter, err.message);
    throw err;
  }
  const filters: UsageQuery['filters'] = {};
  for (const name of FILTERS) {
    const value = single(search, name);
    if (value === undefined) continue;
    if (!FILTER_VALUE.test(value)) throw new UsageQueryError(name, `${name}: expected 1 to 200 letters, digits, spaces or . _ @ : / + -`);
    filters[name] = value;
  }
  return { from, to, groupBy: groupBy(single(search, 'group_by')), filters, format: format(single(search, 'format'), accept) };
}

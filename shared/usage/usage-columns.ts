/*
 * What the read side (GET /api/usage, the dashboard page, the Databricks dashboard) shows of the
 * daily usage table: the one list of summable columns and the ways rows can be grouped. A new column
 * of infra/sql/usage_daily.sql becomes visible everywhere by adding it here.
 */

export interface UsageMeasure {
  /** Name in responses, CSV headers and the Databricks dashboard's datasets. */
  name: string;
  /** SQL over the table's columns, summed per group (written once, valid in Databricks SQL and DuckDB). */
  sql: string;
  label: string;
  unit: 'tokens' | 'usd' | 'count' | 'seconds';
  /** Integer sums; otherwise fractional (cost, seconds). */
  integer: boolean;
}

const count = (name: string, label: string, unit: UsageMeasure['unit'] = 'count'): UsageMeasure => ({ name, sql: name, label, unit, integer: true });

export const USAGE_MEASURES: readonly UsageMeasure[] = [
  // The headline figure: uncached input plus output, from the row's headline source (tokens_source; see docs/usage.md).
  { name: 'tokens', sql: 'coalesce(input_tokens, 0) + coalesce(output_tokens, 0)', label: 'Tokens (input + output)', unit: 'tokens', integer: true },
  count('input_tokens', 'Input tokens', 'tokens'),
  count('output_tokens', 'Output tokens', 'tokens'),
  count('cache_read_tokens', 'Cache-read tokens', 'tokens'),
  count('cache_creation_tokens', 'Cache-write tokens', 'tokens'),
  count('reasoning_tokens', 'Reasoning tokens', 'tokens'),
  { name: 'cost_usd', sql: 'cost_usd', label: 'Cost (USD)', unit: 'usd', integer: false },
  count('sessions', 'Sessions'),
  count('requests', 'Requests'),
  count('errors', 'Errors'),
  count('lines_added', 'Lines added'),
  count('lines_removed', 'Lines removed'),
  count('commits', 'Commits'),
  count('pull_requests', 'Pull requests'),
  count('tool_calls', 'Tool calls'),
  { name: 'active_seconds', sql: 'active_seconds', label: 'Active time (s)', unit: 'seconds', integer: false },
  // Each source on its own (the headline columns above take one of them per row: see tokens_source).
  { name: 'agent_reported_cost_usd', sql: 'agent_reported_cost_usd', label: 'Agent-reported cost (USD)', unit: 'usd', integer: false },
  count('gateway_requests', 'Gateway requests'),
  count('gateway_input_tokens', 'Gateway input tokens', 'tokens'),
  count('gateway_output_tokens', 'Gateway output tokens', 'tokens'),
  count('gateway_cache_read_tokens', 'Gateway cache-read tokens', 'tokens'),
  count('gateway_cache_creation_tokens', 'Gateway cache-write tokens', 'tokens'),
  count('telemetry_requests', 'Telemetry requests'),
  count('telemetry_input_tokens', 'Telemetry input tokens', 'tokens'),
  count('telemetry_output_tokens', 'Telemetry output tokens', 'tokens'),
  count('telemetry_cache_read_tokens', 'Telemetry cache-read tokens', 'tokens'),
  count('telemetry_cache_creation_tokens', 'Telemetry cache-write tokens', 'tokens'),
  count('telemetry_reasoning_tokens', 'Telemetry reasoning tokens', 'tokens'),
];

export type GroupKey = 'day' | 'agent' | 'user' | 'model';

export const GROUP_KEY_NAMES: readonly GroupKey[] = ['day', 'agent', 'user', 'model'];

export interface GroupColumn {
  name: string;
  /** The selected expression (the day as text: both engines return YYYY-MM-DD). */
  select: string;
  /** The table column grouped by; undefined for a column that is aggregated instead. */
  groupBy: string | undefined;
}

/** Each `group_by` key and the output columns it adds (user: its id, and the email it was seen with). */
export const GROUP_KEYS: Record<GroupKey, readonly GroupColumn[]> = {
  day: [{ name: 'day', select: 'CAST(usage_date AS STRING)', groupBy: 'usage_date' }],
  agent: [{ name: 'agent', select: 'agent', groupBy: 'agent' }],
  user: [
    { name: 'user_id', select: 'user_id', groupBy: 'user_id' },
    { name: 'user_email', select: 'max(user_email)', groupBy: undefined },
  ],
  model: [{ name: 'model', select: 'model', groupBy: 'model' }],
};

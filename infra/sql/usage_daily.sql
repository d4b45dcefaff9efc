-- Daily usage per UTC date, agent, user and model, computed by the usage roll-up (infra/sql/usage_daily_rollup.sql).
-- {catalog}, {schema} and {prefix} are replaced by validated identifiers (UC_CATALOG, UC_SCHEMA, UC_TABLE_PREFIX).
CREATE TABLE IF NOT EXISTS {catalog}.{schema}.{prefix}_usage_daily (
  usage_date DATE,
  agent STRING,
  user_id STRING,
  user_email STRING,
  model STRING,
  sessions BIGINT,
  requests BIGINT,
  errors BIGINT,
  input_tokens BIGINT,
  output_tokens BIGINT,
  cache_read_tokens BIGINT,
  cache_creation_tokens BIGINT,
  reasoning_tokens BIGINT,
  cost_usd DOUBLE,
  lines_added BIGINT,
  lines_removed BIGINT,
  commits BIGINT,
  pull_requests BIGINT,
  tool_calls BIGINT,
  active_seconds DOUBLE,
  token_source STRING,
  computed_at TIMESTAMP
) USING DELTA;

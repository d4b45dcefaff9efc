-- Daily usage roll-up: recomputes the days :from_day..:to_day (days since 1970-01-01, UTC) from the raw
-- OTel tables and MERGEs them into <prefix>_usage_daily by (usage_date, agent, user_id, model).
-- One definition for Databricks SQL and DuckDB: {{IDIV}} (integer division) and {{DAY_TO_DATE(x)}} are the
-- only dialect differences (shared/usage/dialect.ts); parameters are written :name.
-- Parameters: :from_day, :to_day (BIGINT), :from_nanos, :to_nanos (BIGINT: the window plus one day of
-- lookback for cumulative series), :computed_at (STRING, ISO 8601 UTC).
MERGE INTO {catalog}.{schema}.{prefix}_usage_daily AS t
USING (
  WITH
  -- A record without a time (Codex sends none) is placed at its observed time, as OTLP specifies.
  log_rows AS (
    SELECT
      coalesce(nullif(l.time_unix_nano, 0), l.observed_time_unix_nano) {{IDIV}} 86400000000000 AS day,
      coalesce(nullif(l.time_unix_nano, 0), l.observed_time_unix_nano) AS ts,
      coalesce(l.event_name, '') AS record_name,
      CASE WHEN l.resource.attributes['service.name'] LIKE 'codex%' THEN 'codex'
           ELSE coalesce(l.resource.attributes['service.name'], 'unknown') END AS agent,
      coalesce(l.resource.attributes['user.id'], 'unattributed') AS user_id,
      coalesce(l.resource.attributes['user.email'], 'unattributed') AS user_email,
      -- Claude Code names its events in the body; Codex and Gemini CLI in attributes['event.name'].
      CASE WHEN l.body LIKE 'claude_code.%' THEN l.body ELSE coalesce(l.attributes['event.name'], '') END AS event,
      coalesce(l.attributes['session.id'], l.attributes['conversation.id'], l.resource.attributes['session.id'], '') AS session_id,
      coalesce(l.attributes['model'], '') AS model,
      l.attributes AS a
    FROM {catalog}.{schema}.{prefix}_otel_logs AS l
    WHERE coalesce(nullif(l.time_unix_nano, 0), l.observed_time_unix_nano) >= :from_nanos
      AND coalesce(nullif(l.time_unix_nano, 0), l.observed_time_unix_nano) < :to_nanos
  ),
  log_measures AS (
    SELECT
      day, agent, user_id, user_email, model, session_id, event, record_name, ts,
      coalesce(a['request_id'], '') AS request_id,
      CASE
        WHEN event IN ('claude_code.api_request', 'gemini_cli.api_response') THEN 1
        WHEN event = 'codex.sse_event' AND a['event.kind'] = 'response.completed' AND a['input_token_count'] IS NOT NULL THEN 1
        ELSE 0 END AS token_event,
      CASE
        WHEN event IN ('claude_code.api_error', 'gemini_cli.api_error') THEN 1
        WHEN event = 'codex.api_request' AND (try_cast(a['http.response.status_code'] AS INT) >= 400 OR a['success'] = 'false') THEN 1
        ELSE 0 END AS errors,
      CASE WHEN event IN ('claude_code.tool_result', 'codex.tool_result', 'gemini_cli.tool_call') THEN 1 ELSE 0 END AS tool_calls,
      CASE event
        WHEN 'claude_code.api_request' THEN try_cast(a['input_tokens'] AS BIGINT)
        WHEN 'gemini_cli.api_response' THEN try_cast(a['input_token_count'] AS BIGINT)
        WHEN 'codex.sse_event' THEN try_cast(a['input_token_count'] AS BIGINT) END AS input_tokens,
      CASE event
        WHEN 'claude_code.api_request' THEN try_cast(a['output_tokens'] AS BIGINT)
        WHEN 'gemini_cli.api_response' THEN try_cast(a['output_token_count'] AS BIGINT)
        WHEN 'codex.sse_event' THEN try_cast(a['output_token_count'] AS BIGINT) END AS output_tokens,
      CASE event
        WHEN 'claude_code.api_request' THEN try_cast(a['cache_read_tokens'] AS BIGINT)
        WHEN 'gemini_cli.api_response' THEN try_cast(a['cached_content_token_count'] AS BIGINT)
        WHEN 'codex.sse_event' THEN try_cast(a['cached_token_count'] AS BIGINT) END AS cache_read_tokens,
      CASE event
        WHEN 'claude_code.api_request' THEN try_cast(a['cache_creation_tokens'] AS BIGINT)
        WHEN 'codex.sse_event' THEN try_cast(a['cache_write_token_count'] AS BIGINT) END AS cache_creation_tokens,
      CASE event
        WHEN 'gemini_cli.api_response' THEN try_cast(a['thoughts_token_count'] AS BIGINT)
        WHEN 'codex.sse_event' THEN try_cast(a['reasoning_token_count'] AS BIGINT) END AS reasoning_tokens,
      CASE event WHEN 'claude_code.api_request' THEN try_cast(a['cost_usd'] AS DOUBLE) END AS cost_usd
    FROM log_rows
    WHERE day BETWEEN :from_day AND :to_day
  ),
  -- At-least-once delivery repeats records: keep one per request id (Claude Code) or per session,
  -- event and timestamp.
  events AS (
    SELECT * FROM (
      SELECT m.*, row_number() OVER (
        PARTITION BY agent, user_id, session_id, event, record_name,
          CASE WHEN request_id <> '' THEN request_id ELSE CAST(ts AS STRING) END
        ORDER BY ts) AS copy
      FROM log_measures AS m
      WHERE token_event + errors + tool_calls > 0
    ) AS numbered
    WHERE copy = 1
  ),
  metric_rows AS (
    SELECT
      m.name,
      CASE WHEN m.resource.attributes['service.name'] LIKE 'codex%' THEN 'codex'
           ELSE coalesce(m.resource.attributes['service.name'], 'unknown') END AS agent,
      coalesce(m.resource.attributes['user.id'], 'unattributed') AS user_id,
      coalesce(m.resource.attributes['user.email'], 'unattributed') AS user_email,
      coalesce(m.resource.attributes['session.id'], '') AS resource_session_id,
      to_json(m.resource.attributes) AS resource_key,
      CASE m.metric_type WHEN 'sum' THEN m.sum.attributes ELSE m.histogram.attributes END AS a,
      CASE m.metric_type WHEN 'sum' THEN m.sum.start_time_unix_nano ELSE m.histogram.start_time_unix_nano END AS start_ts,
      CASE m.metric_type WHEN 'sum' THEN m.sum.time_unix_nano ELSE m.histogram.time_unix_nano END AS ts,
      CASE m.metric_type WHEN 'sum' THEN m.sum.value ELSE m.histogram.sum END AS value,
      CASE m.metric_type WHEN 'sum' THEN m.sum.aggregation_temporality ELSE m.histogram.aggregation_temporality END AS temporality
    FROM {catalog}.{schema}.{prefix}_otel_metrics AS m
    WHERE m.metric_type IN ('sum', 'histogram')
      AND m.name IN (
        'claude_code.session.count', 'claude_code.token.usage', 'claude_code.cost.usage',
        'claude_code.lines_of_code.count', 'claude_code.commit.count', 'claude_code.pull_request.count',
        'claude_code.active_time.total', 'codex.turn.token_usage',
        'gemini_cli.session.count', 'gemini_cli.token.usage', 'gemini_cli.lines.changed')
  ),
  points AS (
    SELECT * FROM (
      SELECT r.*, to_json(r.a) AS attribute_key, row_number() OVER (
        PARTITION BY name, resource_key, to_json(r.a), start_ts, ts ORDER BY ts) AS copy
      FROM metric_rows AS r
      WHERE ts >= :from_nanos AND ts < :to_nanos
    ) AS numbered
    WHERE copy = 1
  ),
  -- Delta points count as they are. A cumulative series (resource + attributes + start time) counts
  -- its growth since its previous point; its first point, or one lower than the previous (a reset),
  -- counts whole. The day before the window is read only to supply those previous points.
  increments AS (
    SELECT
      p.*,
      ts {{IDIV}} 86400000000000 AS day,
      CASE
        WHEN temporality <> 'AGGREGATION_TEMPORALITY_CUMULATIVE' THEN value
        WHEN lag(value) OVER series IS NULL OR value < lag(value) OVER series THEN value
        ELSE value - lag(value) OVER series END AS increment
    FROM points AS p
    WINDOW series AS (PARTITION BY name, resource_key, attribute_key, start_ts ORDER BY ts)
  ),
  metric_measures AS (
    SELECT
      day, agent, user_id, user_email,
      coalesce(a['model'], '') AS model,
      coalesce(a['session.id'], nullif(resource_session_id, ''), '') AS session_id,
      CASE WHEN (name = 'claude_code.token.usage' AND a['type'] = 'input')
             OR (name = 'codex.turn.token_usage' AND a['token_type'] = 'input')
             OR (name = 'gemini_cli.token.usage' AND a['type'] = 'input') THEN increment END AS input_tokens,
      CASE WHEN (name = 'claude_code.token.usage' AND a['type'] = 'output')
             OR (name = 'codex.turn.token_usage' AND a['token_type'] = 'output')
             OR (name = 'gemini_cli.token.usage' AND a['type'] = 'output') THEN increment END AS output_tokens,
      CASE WHEN (name = 'claude_code.token.usage' AND a['type'] = 'cacheRead')
             OR (name = 'codex.turn.token_usage' AND a['token_type'] = 'cached_input')
             OR (name = 'gemini_cli.token.usage' AND a['type'] = 'cache') THEN increment END AS cache_read_tokens,
      CASE WHEN (name = 'claude_code.token.usage' AND a['type'] = 'cacheCreation')
             OR (name = 'codex.turn.token_usage' AND a['token_type'] = 'cache_write_input') THEN increment END AS cache_creation_tokens,
      CASE WHEN (name = 'codex.turn.token_usage' AND a['token_type'] = 'reasoning_output')
             OR (name = 'gemini_cli.token.usage' AND a['type'] = 'thought') THEN increment END AS reasoning_tokens,
      CASE WHEN name = 'claude_code.cost.usage' THEN increment END AS cost_usd,
      CASE WHEN name IN ('claude_code.lines_of_code.count', 'gemini_cli.lines.changed') AND a['type'] = 'added' THEN increment END AS lines_added,
      CASE WHEN name IN ('claude_code.lines_of_code.count', 'gemini_cli.lines.changed') AND a['type'] = 'removed' THEN increment END AS lines_removed,
      CASE WHEN name = 'claude_code.commit.count' THEN increment END AS commits,
      CASE WHEN name = 'claude_code.pull_request.count' THEN increment END AS pull_requests,
      CASE WHEN name = 'claude_code.active_time.total' THEN increment END AS active_seconds
    FROM increments
    WHERE day BETWEEN :from_day AND :to_day
  ),
  -- Requests, errors, tokens and cost belong to a model; tokens and cost come from events when the
  -- (day, agent, user, model) has any, else from the token and cost metrics.
  by_model AS (
    SELECT
      day, agent, user_id, model, max(user_email) AS user_email,
      sum(e_token_events) AS token_events, sum(e_errors) AS errors,
      sum(e_input) AS e_input, sum(e_output) AS e_output, sum(e_cache_read) AS e_cache_read,
      sum(e_cache_creation) AS e_cache_creation, sum(e_reasoning) AS e_reasoning, sum(e_cost) AS e_cost,
      sum(m_input) AS m_input, sum(m_output) AS m_output, sum(m_cache_read) AS m_cache_read,
      sum(m_cache_creation) AS m_cache_creation, sum(m_reasoning) AS m_reasoning, sum(m_cost) AS m_cost
    FROM (
      SELECT day, agent, user_id, model, user_email,
        token_event AS e_token_events, errors AS e_errors,
        input_tokens AS e_input, output_tokens AS e_output, cache_read_tokens AS e_cache_read,
        cache_creation_tokens AS e_cache_creation, reasoning_tokens AS e_reasoning, cost_usd AS e_cost,
        CAST(NULL AS DOUBLE) AS m_input, CAST(NULL AS DOUBLE) AS m_output, CAST(NULL AS DOUBLE) AS m_cache_read,
        CAST(NULL AS DOUBLE) AS m_cache_creation, CAST(NULL AS DOUBLE) AS m_reasoning, CAST(NULL AS DOUBLE) AS m_cost
      FROM events
      WHERE token_event + errors > 0
      UNION ALL
      SELECT day, agent, user_id, model, user_email, 0, 0,
        CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE),
        input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens, cost_usd
      FROM metric_measures
      WHERE coalesce(input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens, cost_usd) IS NOT NULL
    ) AS u
    GROUP BY day, agent, user_id, model
  ),
  -- Sessions, tool calls, lines, commits, pull requests and active time belong to no model: they
  -- go on the row whose model is ''.
  activity AS (
    SELECT
      day, agent, user_id, max(user_email) AS user_email,
      count(DISTINCT nullif(session_id, '')) AS sessions,
      sum(tool_calls) AS tool_calls, sum(lines_added) AS lines_added, sum(lines_removed) AS lines_removed,
      sum(commits) AS commits, sum(pull_requests) AS pull_requests, sum(active_seconds) AS active_seconds
    FROM (
      SELECT day, agent, user_id, user_email, session_id, 0 AS tool_calls,
        CAST(NULL AS DOUBLE) AS lines_added, CAST(NULL AS DOUBLE) AS lines_removed, CAST(NULL AS DOUBLE) AS commits,
        CAST(NULL AS DOUBLE) AS pull_requests, CAST(NULL AS DOUBLE) AS active_seconds
      FROM log_rows
      WHERE day BETWEEN :from_day AND :to_day
      UNION ALL
      SELECT day, agent, user_id, user_email, session_id, tool_calls,
        CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE)
      FROM events
      WHERE tool_calls > 0
      UNION ALL
      SELECT day, agent, user_id, user_email, session_id, 0,
        lines_added, lines_removed, commits, pull_requests, active_seconds
      FROM metric_measures
    ) AS u
    GROUP BY day, agent, user_id
  )
  SELECT
    {{DAY_TO_DATE(day)}} AS usage_date, agent, user_id, model,
    max(user_email) AS user_email,
    CAST(coalesce(sum(sessions), 0) AS BIGINT) AS sessions,
    CAST(coalesce(sum(requests), 0) AS BIGINT) AS requests,
    CAST(coalesce(sum(errors), 0) AS BIGINT) AS errors,
    CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
    CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
    CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
    CAST(sum(cache_creation_tokens) AS BIGINT) AS cache_creation_tokens,
    CAST(sum(reasoning_tokens) AS BIGINT) AS reasoning_tokens,
    sum(cost_usd) AS cost_usd,
    CAST(sum(lines_added) AS BIGINT) AS lines_added,
    CAST(sum(lines_removed) AS BIGINT) AS lines_removed,
    CAST(sum(commits) AS BIGINT) AS commits,
    CAST(sum(pull_requests) AS BIGINT) AS pull_requests,
    CAST(coalesce(sum(tool_calls), 0) AS BIGINT) AS tool_calls,
    sum(active_seconds) AS active_seconds,
    max(token_source) AS token_source,
    CAST(:computed_at AS TIMESTAMP) AS computed_at
  FROM (
    SELECT day, agent, user_id, model, user_email,
      CAST(NULL AS BIGINT) AS sessions, token_events + errors AS requests, errors,
      CASE WHEN token_events > 0 THEN e_input ELSE m_input END AS input_tokens,
      CASE WHEN token_events > 0 THEN e_output ELSE m_output END AS output_tokens,
      CASE WHEN token_events > 0 THEN e_cache_read ELSE m_cache_read END AS cache_read_tokens,
      CASE WHEN token_events > 0 THEN e_cache_creation ELSE m_cache_creation END AS cache_creation_tokens,
      CASE WHEN token_events > 0 THEN e_reasoning ELSE m_reasoning END AS reasoning_tokens,
      CASE WHEN token_events > 0 THEN e_cost ELSE m_cost END AS cost_usd,
      CAST(NULL AS DOUBLE) AS lines_added, CAST(NULL AS DOUBLE) AS lines_removed, CAST(NULL AS DOUBLE) AS commits,
      CAST(NULL AS DOUBLE) AS pull_requests, CAST(NULL AS BIGINT) AS tool_calls, CAST(NULL AS DOUBLE) AS active_seconds,
      CASE WHEN token_events > 0 THEN 'events'
           WHEN coalesce(m_input, m_output, m_cache_read, m_cache_creation, m_reasoning, m_cost) IS NOT NULL THEN 'metrics'
           ELSE 'none' END AS token_source
    FROM by_model
    UNION ALL
    SELECT day, agent, user_id, '' AS model, user_email,
      sessions, 0, 0,
      CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE),
      lines_added, lines_removed, commits, pull_requests, tool_calls, active_seconds,
      CAST(NULL AS STRING)
    FROM activity
  ) AS rows_by_key
  GROUP BY day, agent, user_id, model
) AS s
ON t.usage_date = s.usage_date AND t.agent = s.agent AND t.user_id = s.user_id AND t.model = s.model
WHEN MATCHED AND (
     t.user_email IS DISTINCT FROM s.user_email OR t.sessions IS DISTINCT FROM s.sessions
  OR t.requests IS DISTINCT FROM s.requests OR t.errors IS DISTINCT FROM s.errors
  OR t.input_tokens IS DISTINCT FROM s.input_tokens OR t.output_tokens IS DISTINCT FROM s.output_tokens
  OR t.cache_read_tokens IS DISTINCT FROM s.cache_read_tokens OR t.cache_creation_tokens IS DISTINCT FROM s.cache_creation_tokens
  OR t.reasoning_tokens IS DISTINCT FROM s.reasoning_tokens OR t.cost_usd IS DISTINCT FROM s.cost_usd
  OR t.lines_added IS DISTINCT FROM s.lines_added OR t.lines_removed IS DISTINCT FROM s.lines_removed
  OR t.commits IS DISTINCT FROM s.commits OR t.pull_requests IS DISTINCT FROM s.pull_requests
  OR t.tool_calls IS DISTINCT FROM s.tool_calls OR t.active_seconds IS DISTINCT FROM s.active_seconds
  OR t.token_source IS DISTINCT FROM s.token_source
) THEN UPDATE SET
  user_email = s.user_email, sessions = s.sessions, requests = s.requests, errors = s.errors,
  input_tokens = s.input_tokens, output_tokens = s.output_tokens, cache_read_tokens = s.cache_read_tokens,
  cache_creation_tokens = s.cache_creation_tokens, reasoning_tokens = s.reasoning_tokens, cost_usd = s.cost_usd,
  lines_added = s.lines_added, lines_removed = s.lines_removed, commits = s.commits, pull_requests = s.pull_requests,
  tool_calls = s.tool_calls, active_seconds = s.active_seconds, token_source = s.token_source, computed_at = s.computed_at
WHEN NOT MATCHED THEN INSERT (
  usage_date, agent, user_id, user_email, model, sessions, requests, errors, input_tokens, output_tokens,
  cache_read_tokens, cache_creation_tokens, reasoning_tokens, cost_usd, lines_added, lines_removed, commits,
  pull_requests, tool_calls, active_seconds, token_source, computed_at
) VALUES (
  s.usage_date, s.agent, s.user_id, s.user_email, s.model, s.sessions, s.requests, s.errors, s.input_tokens, s.output_tokens,
  s.cache_read_tokens, s.cache_creation_tokens, s.reasoning_tokens, s.cost_usd, s.lines_added, s.lines_removed, s.commits,
  s.pull_requests, s.tool_calls, s.active_seconds, s.token_source, s.computed_at
);

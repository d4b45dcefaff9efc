-- Daily usage roll-up: recomputes the days :from_day..:to_day (days since 1970-01-01, UTC) from the raw
-- OTel tables and the AI Gateway's usage table, prices them with <prefix>_model_prices, and MERGEs them into
-- <prefix>_usage_daily by (usage_date, agent, user_id, model).
-- One definition for Databricks SQL and DuckDB: {{IDIV}} (integer division), {{DAY_TO_DATE(x)}} and
-- {{TS_TO_DAY(x)}} are the only dialect differences and {{MODEL_KEY(x)}} the one model-name rule
-- (shared/usage/dialect.ts); parameters are written :name. {gateway_usage_table} is AI_GATEWAY_USAGE_TABLE, or
-- an empty relation with its columns when that is off (shared/usage/usage-tables.ts).
-- Parameters: :from_day, :to_day (BIGINT), :from_nanos, :to_nanos (BIGINT: the window plus one day of
-- lookback for cumulative series), :from_time, :to_time (STRING, 'YYYY-MM-DD 00:00:00' UTC: the window for
-- gateway rows), :computed_at (STRING, ISO 8601 UTC).
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
        'gemini_cli.session.count', 'gemini_cli.token.usage', 'gemini_cli.lines.changed',
        'gemini_cli.api.request.count', 'codex.api_request')
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
      -- Request counters, for a (day, agent, user, model) without request events.
      CASE WHEN name IN ('gemini_cli.api.request.count', 'codex.api_request') THEN increment END AS requests,
      CASE WHEN (name = 'gemini_cli.api.request.count' AND try_cast(a['status_code'] AS INT) >= 400)
             OR (name = 'codex.api_request' AND (try_cast(a['status'] AS INT) >= 400 OR a['success'] = 'false')) THEN increment END AS errors,
      CASE WHEN name IN ('claude_code.lines_of_code.count', 'gemini_cli.lines.changed') AND a['type'] = 'added' THEN increment END AS lines_added,
      CASE WHEN name IN ('claude_code.lines_of_code.count', 'gemini_cli.lines.changed') AND a['type'] = 'removed' THEN increment END AS lines_removed,
      CASE WHEN name = 'claude_code.commit.count' THEN increment END AS commits,
      CASE WHEN name = 'claude_code.pull_request.count' THEN increment END AS pull_requests,
      CASE WHEN name = 'claude_code.active_time.total' THEN increment END AS active_seconds
    FROM increments
    WHERE day BETWEEN :from_day AND :to_day
  ),
  -- Requests, errors, tokens and agent-reported cost belong to a model. Tokens and cost come from events
  -- when the (day, agent, user, model) has any, else from the token and cost counters; requests and errors
  -- from events when there are any, else from the request counters.
  by_model AS (
    SELECT
      day, agent, user_id, model, max(user_email) AS user_email,
      sum(e_token_events) AS token_events, sum(e_errors) AS e_errors,
      sum(e_input) AS e_input, sum(e_output) AS e_output, sum(e_cache_read) AS e_cache_read,
      sum(e_cache_creation) AS e_cache_creation, sum(e_reasoning) AS e_reasoning, sum(e_cost) AS e_cost,
      sum(m_requests) AS m_requests, sum(m_errors) AS m_errors,
      sum(m_input) AS m_input, sum(m_output) AS m_output, sum(m_cache_read) AS m_cache_read,
      sum(m_cache_creation) AS m_cache_creation, sum(m_reasoning) AS m_reasoning, sum(m_cost) AS m_cost
    FROM (
      SELECT day, agent, user_id, model, user_email,
        token_event AS e_token_events, errors AS e_errors,
        input_tokens AS e_input, output_tokens AS e_output, cache_read_tokens AS e_cache_read,
        cache_creation_tokens AS e_cache_creation, reasoning_tokens AS e_reasoning, cost_usd AS e_cost,
        CAST(NULL AS DOUBLE) AS m_requests, CAST(NULL AS DOUBLE) AS m_errors,
        CAST(NULL AS DOUBLE) AS m_input, CAST(NULL AS DOUBLE) AS m_output, CAST(NULL AS DOUBLE) AS m_cache_read,
        CAST(NULL AS DOUBLE) AS m_cache_creation, CAST(NULL AS DOUBLE) AS m_reasoning, CAST(NULL AS DOUBLE) AS m_cost
      FROM events
      WHERE token_event + errors > 0
      UNION ALL
      SELECT day, agent, user_id, model, user_email, 0, 0,
        CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE),
        requests, errors, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens, cost_usd
      FROM metric_measures
      WHERE coalesce(input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens, cost_usd, requests) IS NOT NULL
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
  ),
  -- Everything the agents' telemetry says, one row per (day, agent, user, model as reported).
  telemetry AS (
    SELECT day, agent, user_id, model, user_email,
      CAST(NULL AS BIGINT) AS sessions,
      CASE WHEN token_events + e_errors > 0 THEN token_events + e_errors ELSE m_requests END AS t_requests,
      CASE WHEN token_events + e_errors > 0 THEN e_errors ELSE m_errors END AS t_errors,
      CASE WHEN token_events > 0 THEN e_input ELSE m_input END AS t_input,
      CASE WHEN token_events > 0 THEN e_output ELSE m_output END AS t_output,
      CASE WHEN token_events > 0 THEN e_cache_read ELSE m_cache_read END AS t_cache_read,
      CASE WHEN token_events > 0 THEN e_cache_creation ELSE m_cache_creation END AS t_cache_creation,
      CASE WHEN token_events > 0 THEN e_reasoning ELSE m_reasoning END AS t_reasoning,
      CASE WHEN token_events > 0 THEN 'events'
           WHEN coalesce(m_input, m_output, m_cache_read, m_cache_creation, m_reasoning) IS NOT NULL THEN 'metrics' END AS t_source,
      CASE WHEN token_events > 0 THEN e_cost ELSE m_cost END AS agent_cost,
      CAST(NULL AS DOUBLE) AS lines_added, CAST(NULL AS DOUBLE) AS lines_removed, CAST(NULL AS DOUBLE) AS commits,
      CAST(NULL AS DOUBLE) AS pull_requests, CAST(NULL AS BIGINT) AS tool_calls, CAST(NULL AS DOUBLE) AS active_seconds
    FROM by_model
    UNION ALL
    SELECT day, agent, user_id, '' AS model, user_email, sessions,
      CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE),
      CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS STRING), CAST(NULL AS DOUBLE),
      lines_added, lines_removed, commits, pull_requests, tool_calls, active_seconds
    FROM activity
  ),
  -- The gateway's billed record of each model request. Delivery is at-least-once: one row per request_id
  -- (or, without one, per time, requester, user agent and model); copies are identical, so max() keeps it.
  gateway_rows AS (
    SELECT
      max(g.event_time) AS event_time, max(g.requester) AS requester, max(g.user_agent) AS user_agent, max(g.url) AS url,
      max(g.destination_model) AS destination_model, max(g.input_tokens) AS input_tokens, max(g.output_tokens) AS output_tokens,
      max(g.token_details.cache_read_input_tokens) AS cache_read_tokens,
      max(g.token_details.cache_creation_input_tokens) AS cache_creation_tokens
    FROM {gateway_usage_table} AS g
    WHERE g.event_time >= CAST(:from_time AS TIMESTAMP) AND g.event_time < CAST(:to_time AS TIMESTAMP)
    GROUP BY g.request_id,
      CASE WHEN g.request_id IS NULL THEN concat_ws('|', CAST(g.event_time AS STRING), g.requester, g.user_agent, g.destination_model) END
  ),
  -- Requests summed per day and what tells users, agents and models apart, before any text is examined.
  gateway_groups AS (
    SELECT {{TS_TO_DAY(event_time)}} AS day, requester, user_agent, url, destination_model, count(*) AS requests,
      sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
      sum(cache_read_tokens) AS cache_read_tokens, sum(cache_creation_tokens) AS cache_creation_tokens
    FROM gateway_rows
    GROUP BY {{TS_TO_DAY(event_time)}}, requester, user_agent, url, destination_model
  ),
  -- Agent from the User-Agent: first the marker this app's configs add, then Cursor's gateway path, then
  -- the names the CLIs send by default (as Databricks' ucode classifies). A requester with an @ is a user
  -- (lower-cased email/UPN); any other is a service principal and stays as its id.
  gateway AS (
    SELECT
      day,
      CASE
        WHEN user_agent LIKE '%coding-agent-relay (claude-code)%' THEN 'claude-code'
        WHEN user_agent LIKE '%coding-agent-relay (codex)%' THEN 'codex'
        WHEN user_agent LIKE '%coding-agent-relay (gemini-cli)%' THEN 'gemini-cli'
        WHEN url LIKE '%/cursor/%' OR lower(user_agent) LIKE '%cursor%' THEN 'cursor'
        WHEN lower(user_agent) LIKE '%codex%' THEN 'codex'
        WHEN lower(user_agent) LIKE '%claude%' THEN 'claude-code'
        WHEN lower(user_agent) LIKE '%gemini%' THEN 'gemini-cli'
        ELSE 'other' END AS agent,
      CASE WHEN requester LIKE '%@%' THEN lower(requester) ELSE coalesce(requester, 'unattributed') END AS requester_key,
      CASE WHEN requester LIKE '%@%' THEN lower(requester) END AS email,
      coalesce(nullif(destination_model, ''), 'unknown') AS model,
      requests, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens
    FROM gateway_groups
  ),
  gateway_by_key AS (
    SELECT day, agent, requester_key, model, max(email) AS email, sum(requests) AS requests,
      sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
      sum(cache_read_tokens) AS cache_read_tokens, sum(cache_creation_tokens) AS cache_creation_tokens
    FROM gateway
    WHERE day BETWEEN :from_day AND :to_day
    GROUP BY day, agent, requester_key, model
  ),
  -- Both sources side by side. A gateway requester takes the telemetry identity (the stamped user.id) of
  -- the same email, so one row carries both; telemetry is read once (a second reference would recompute it).
  both_sources AS (
    SELECT
      day, agent, model, user_email,
      coalesce(user_id, max(user_id) OVER (PARTITION BY email_key), requester_key) AS user_id,
      sessions, t_requests, t_errors, t_input, t_output, t_cache_read, t_cache_creation, t_reasoning, t_source, agent_cost,
      g_requests, g_input, g_output, g_cache_read, g_cache_creation,
      lines_added, lines_removed, commits, pull_requests, tool_calls, active_seconds
    FROM (
      SELECT day, agent, user_id, CAST(NULL AS STRING) AS requester_key, model, user_email,
        CASE WHEN user_email <> 'unattributed' THEN lower(user_email) END AS email_key, sessions,
        t_requests, t_errors, t_input, t_output, t_cache_read, t_cache_creation, t_reasoning, t_source, agent_cost,
        CAST(NULL AS BIGINT) AS g_requests, CAST(NULL AS BIGINT) AS g_input, CAST(NULL AS BIGINT) AS g_output,
        CAST(NULL AS BIGINT) AS g_cache_read, CAST(NULL AS BIGINT) AS g_cache_creation,
        lines_added, lines_removed, commits, pull_requests, tool_calls, active_seconds
      FROM telemetry
      UNION ALL
      SELECT day, agent, CAST(NULL AS STRING), requester_key, model, email, email, CAST(NULL AS BIGINT),
        CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE),
        CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS STRING), CAST(NULL AS DOUBLE),
        requests, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
        CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE)
      FROM gateway_by_key
    ) AS u
  ),
  -- One row per (day, agent, user, model by its one naming rule).
  combined AS (
    SELECT
      day, agent, user_id, {{MODEL_KEY(model)}} AS model, max(user_email) AS user_email,
      sum(sessions) AS sessions,
      sum(t_requests) AS t_requests, sum(t_errors) AS t_errors, sum(t_input) AS t_input, sum(t_output) AS t_output,
      sum(t_cache_read) AS t_cache_read, sum(t_cache_creation) AS t_cache_creation, sum(t_reasoning) AS t_reasoning,
      min(t_source) AS t_source, sum(agent_cost) AS agent_cost,
      sum(g_requests) AS g_requests, sum(g_input) AS g_input, sum(g_output) AS g_output,
      sum(g_cache_read) AS g_cache_read, sum(g_cache_creation) AS g_cache_creation,
      sum(lines_added) AS lines_added, sum(lines_removed) AS lines_removed, sum(commits) AS commits,
      sum(pull_requests) AS pull_requests, sum(tool_calls) AS tool_calls, sum(active_seconds) AS active_seconds
    FROM both_sources
    GROUP BY day, agent, user_id, {{MODEL_KEY(model)}}
  ),
  -- The headline: the gateway's billed record when the row has one, else the telemetry's. Input tokens are
  -- made uncached (cache reads and writes in their own columns) by each source's convention: Claude Code's
  -- telemetry reports them apart (Anthropic); Codex, Gemini CLI and the gateway count them within input.
  headline AS (
    SELECT c.*,
      CASE WHEN g_requests > 0 THEN 'gateway' WHEN t_source IS NOT NULL THEN t_source WHEN model <> '' THEN 'none' END AS source,
      CASE WHEN g_requests > 0 THEN g_cache_read WHEN t_source IS NOT NULL THEN t_cache_read END AS h_cache_read,
      CASE WHEN g_requests > 0 THEN g_cache_creation WHEN t_source IS NOT NULL THEN t_cache_creation END AS h_cache_creation,
      CASE WHEN g_requests > 0 THEN g_output WHEN t_source IS NOT NULL THEN t_output END AS h_output,
      CASE WHEN g_requests > 0 THEN g_input - coalesce(g_cache_read, 0) - coalesce(g_cache_creation, 0)
           WHEN t_source IS NOT NULL AND agent = 'claude-code' THEN t_input
           WHEN t_source IS NOT NULL THEN t_input - coalesce(t_cache_read, 0) - coalesce(t_cache_creation, 0) END AS h_uncached_input
    FROM combined AS c
  ),
  -- The price in force on the row's day: the model's latest effective_from on or before it.
  priced AS (
    SELECT * FROM (
      SELECT h.*, p.effective_from, p.input_usd_per_mtok, p.output_usd_per_mtok,
        coalesce(p.cache_read_usd_per_mtok, p.input_usd_per_mtok) AS cache_read_usd_per_mtok,
        coalesce(p.cache_write_usd_per_mtok, p.input_usd_per_mtok) AS cache_write_usd_per_mtok,
        row_number() OVER (PARTITION BY h.day, h.agent, h.user_id, h.model ORDER BY p.effective_from DESC) AS price_rank
      FROM headline AS h
      LEFT JOIN {catalog}.{schema}.{prefix}_model_prices AS p
        ON p.model = h.model AND p.effective_from <= {{DAY_TO_DATE(h.day)}}
    ) AS ranked
    WHERE price_rank = 1
  )
  SELECT
    {{DAY_TO_DATE(day)}} AS usage_date, agent, user_id, user_email, model,
    CAST(coalesce(sessions, 0) AS BIGINT) AS sessions,
    CAST(coalesce(CASE WHEN source = 'gateway' THEN g_requests ELSE t_requests END, 0) AS BIGINT) AS requests,
    CAST(coalesce(t_errors, 0) AS BIGINT) AS errors,
    CAST(CASE WHEN h_uncached_input < 0 THEN 0 ELSE h_uncached_input END AS BIGINT) AS input_tokens,
    CAST(h_output AS BIGINT) AS output_tokens,
    CAST(h_cache_read AS BIGINT) AS cache_read_tokens,
    CAST(h_cache_creation AS BIGINT) AS cache_creation_tokens,
    CAST(t_reasoning AS BIGINT) AS reasoning_tokens,
    source AS tokens_source,
    CASE WHEN input_usd_per_mtok IS NOT NULL AND coalesce(h_uncached_input, h_output, h_cache_read, h_cache_creation) IS NOT NULL THEN
      (CASE WHEN h_uncached_input < 0 THEN 0 ELSE coalesce(h_uncached_input, 0) END * input_usd_per_mtok
        + coalesce(h_output, 0) * output_usd_per_mtok
        + coalesce(h_cache_read, 0) * cache_read_usd_per_mtok
        + coalesce(h_cache_creation, 0) * cache_write_usd_per_mtok) / 1000000 END AS cost_usd,
    CASE WHEN input_usd_per_mtok IS NOT NULL AND coalesce(h_uncached_input, h_output, h_cache_read, h_cache_creation) IS NOT NULL THEN effective_from END AS price_effective_from,
    CAST(t_requests AS BIGINT) AS telemetry_requests,
    CAST(t_input AS BIGINT) AS telemetry_input_tokens,
    CAST(t_output AS BIGINT) AS telemetry_output_tokens,
    CAST(t_cache_read AS BIGINT) AS telemetry_cache_read_tokens,
    CAST(t_cache_creation AS BIGINT) AS telemetry_cache_creation_tokens,
    CAST(t_reasoning AS BIGINT) AS telemetry_reasoning_tokens,
    t_source AS telemetry_source,
    agent_cost AS agent_reported_cost_usd,
    CAST(g_requests AS BIGINT) AS gateway_requests,
    CAST(g_input AS BIGINT) AS gateway_input_tokens,
    CAST(g_output AS BIGINT) AS gateway_output_tokens,
    CAST(g_cache_read AS BIGINT) AS gateway_cache_read_tokens,
    CAST(g_cache_creation AS BIGINT) AS gateway_cache_creation_tokens,
    CAST(lines_added AS BIGINT) AS lines_added,
    CAST(lines_removed AS BIGINT) AS lines_removed,
    CAST(commits AS BIGINT) AS commits,
    CAST(pull_requests AS BIGINT) AS pull_requests,
    CAST(coalesce(tool_calls, 0) AS BIGINT) AS tool_calls,
    active_seconds,
    CAST(:computed_at AS TIMESTAMP) AS computed_at
  FROM priced
) AS s
ON t.usage_date = s.usage_date AND t.agent = s.agent AND t.user_id = s.user_id AND t.model = s.model
WHEN MATCHED AND (
     t.user_email IS DISTINCT FROM s.user_email OR t.sessions IS DISTINCT FROM s.sessions
  OR t.requests IS DISTINCT FROM s.requests OR t.errors IS DISTINCT FROM s.errors
  OR t.input_tokens IS DISTINCT FROM s.input_tokens OR t.output_tokens IS DISTINCT FROM s.output_tokens
  OR t.cache_read_tokens IS DISTINCT FROM s.cache_read_tokens OR t.cache_creation_tokens IS DISTINCT FROM s.cache_creation_tokens
  OR t.reasoning_tokens IS DISTINCT FROM s.reasoning_tokens OR t.tokens_source IS DISTINCT FROM s.tokens_source
  OR t.cost_usd IS DISTINCT FROM s.cost_usd OR t.price_effective_from IS DISTINCT FROM s.price_effective_from
  OR t.telemetry_requests IS DISTINCT FROM s.telemetry_requests OR t.telemetry_input_tokens IS DISTINCT FROM s.telemetry_input_tokens
  OR t.telemetry_output_tokens IS DISTINCT FROM s.telemetry_output_tokens OR t.telemetry_cache_read_tokens IS DISTINCT FROM s.telemetry_cache_read_tokens
  OR t.telemetry_cache_creation_tokens IS DISTINCT FROM s.telemetry_cache_creation_tokens OR t.telemetry_reasoning_tokens IS DISTINCT FROM s.telemetry_reasoning_tokens
  OR t.telemetry_source IS DISTINCT FROM s.telemetry_source OR t.agent_reported_cost_usd IS DISTINCT FROM s.agent_reported_cost_usd
  OR t.gateway_requests IS DISTINCT FROM s.gateway_requests OR t.gateway_input_tokens IS DISTINCT FROM s.gateway_input_tokens
  OR t.gateway_output_tokens IS DISTINCT FROM s.gateway_output_tokens OR t.gateway_cache_read_tokens IS DISTINCT FROM s.gateway_cache_read_tokens
  OR t.gateway_cache_creation_tokens IS DISTINCT FROM s.gateway_cache_creation_tokens
  OR t.lines_added IS DISTINCT FROM s.lines_added OR t.lines_removed IS DISTINCT FROM s.lines_removed
  OR t.commits IS DISTINCT FROM s.commits OR t.pull_requests IS DISTINCT FROM s.pull_requests
  OR t.tool_calls IS DISTINCT FROM s.tool_calls OR t.active_seconds IS DISTINCT FROM s.active_seconds
) THEN UPDATE SET
  user_email = s.user_email, sessions = s.sessions, requests = s.requests, errors = s.errors,
  input_tokens = s.input_tokens, output_tokens = s.output_tokens, cache_read_tokens = s.cache_read_tokens,
  cache_creation_tokens = s.cache_creation_tokens, reasoning_tokens = s.reasoning_tokens, tokens_source = s.tokens_source,
  cost_usd = s.cost_usd, price_effective_from = s.price_effective_from,
  telemetry_requests = s.telemetry_requests, telemetry_input_tokens = s.telemetry_input_tokens,
  telemetry_output_tokens = s.telemetry_output_tokens, telemetry_cache_read_tokens = s.telemetry_cache_read_tokens,
  telemetry_cache_creation_tokens = s.telemetry_cache_creation_tokens, telemetry_reasoning_tokens = s.telemetry_reasoning_tokens,
  telemetry_source = s.telemetry_source, agent_reported_cost_usd = s.agent_reported_cost_usd,
  gateway_requests = s.gateway_requests, gateway_input_tokens = s.gateway_input_tokens, gateway_output_tokens = s.gateway_output_tokens,
  gateway_cache_read_tokens = s.gateway_cache_read_tokens, gateway_cache_creation_tokens = s.gateway_cache_creation_tokens,
  lines_added = s.lines_added, lines_removed = s.lines_removed, commits = s.commits, pull_requests = s.pull_requests,
  tool_calls = s.tool_calls, active_seconds = s.active_seconds, computed_at = s.computed_at
WHEN NOT MATCHED THEN INSERT (
  usage_date, agent, user_id, user_email, model, sessions, requests, errors, input_tokens, output_tokens,
  cache_read_tokens, cache_creation_tokens, reasoning_tokens, tokens_source, cost_usd, price_effective_from,
  telemetry_requests, telemetry_input_tokens, telemetry_output_tokens, telemetry_cache_read_tokens,
  telemetry_cache_creation_tokens, telemetry_reasoning_tokens, telemetry_source, agent_reported_cost_usd,
  gateway_requests, gateway_input_tokens, gateway_output_tokens, gateway_cache_read_tokens, gateway_cache_creation_tokens,
  lines_added, lines_removed, commits, pull_requests, tool_calls, active_seconds, computed_at
) VALUES (
  s.usage_date, s.agent, s.user_id, s.user_email, s.model, s.sessions, s.requests, s.errors, s.input_tokens, s.output_tokens,
  s.cache_read_tokens, s.cache_creation_tokens, s.reasoning_tokens, s.tokens_source, s.cost_usd, s.price_effective_from,
  s.telemetry_requests, s.telemetry_input_tokens, s.telemetry_output_tokens, s.telemetry_cache_read_tokens,
  s.telemetry_cache_creation_tokens, s.telemetry_reasoning_tokens, s.telemetry_source, s.agent_reported_cost_usd,
  s.gateway_requests, s.gateway_input_tokens, s.gateway_output_tokens, s.gateway_cache_read_tokens, s.gateway_cache_creation_tokens,
  s.lines_added, s.lines_removed, s.commits, s.pull_requests, s.tool_calls, s.active_seconds, s.computed_at
);

-- A generated UTC day (2026-11-22) of agent telemetry and gateway usage for the usage benchmark: :points metric data
-- points, :records log records and :gateway gateway rows over 200 users, 5 models, 2,000 sessions. Claude Code-like delta
-- token counters and Gemini CLI-like cumulative counters; Claude Code api_request events (10% sent
-- twice, as at-least-once delivery does) and Gemini CLI api_response events.
INSERT INTO {catalog}.{schema}.{prefix}_otel_metrics
SELECT
  CASE WHEN i % 2 = 0 THEN 'claude_code.token.usage' ELSE 'gemini_cli.token.usage' END,
  '', 'tokens', 'sum',
  NULL,
  {
    'start_time_unix_nano': CASE WHEN i % 2 = 0 THEN 1795305600000000000 + i * 86000000 ELSE 1795305600000000000 END,
    'time_unix_nano': 1795305600000000000 + i * 86000000 + 60000000000,
    'value': CASE WHEN i % 2 = 0 THEN (i % 97)::DOUBLE ELSE (i // 10000)::DOUBLE END,
    'exemplars': [],
    'attributes': MAP {'type': ['input', 'output', 'cacheRead', 'cacheCreation'][i % 4 + 1], 'model': 'model-' || (i // 7 % 5), 'session.id': 's-' || (i % 2000)},
    'flags': 0,
    'aggregation_temporality': CASE WHEN i % 2 = 0 THEN 'AGGREGATION_TEMPORALITY_DELTA' ELSE 'AGGREGATION_TEMPORALITY_CUMULATIVE' END,
    'is_monotonic': true
  },
  NULL, NULL, NULL,
  MAP {},
  {'attributes': MAP {'service.name': CASE WHEN i % 2 = 0 THEN 'claude-code' ELSE 'gemini-cli' END, 'user.id': 'u-' || (i // 3 % 200), 'user.email': 'u-' || (i // 3 % 200) || '@example.com'}, 'dropped_attributes_count': 0},
  '',
  {'name': 'bench', 'version': '1', 'attributes': MAP {}, 'dropped_attributes_count': 0},
  ''
FROM range(CAST(:points AS BIGINT)) AS r(i);

-- A record whose index ends in 2 repeats the record two before it, byte for byte (a redelivery).
INSERT INTO {catalog}.{schema}.{prefix}_otel_logs
SELECT
  '', NULL, NULL,
  1795305600000000000 + j * 86000000,
  1795305600000000000 + j * 86000000,
  'SEVERITY_NUMBER_INFO', '',
  CASE WHEN j % 2 = 0 THEN 'claude_code.api_request' ELSE 'API response.' END,
  CASE WHEN j % 2 = 0 THEN
    MAP {'event.name': 'api_request', 'session.id': 's-' || (j % 2000), 'model': 'model-' || (j // 7 % 5),
         'request_id': 'req-' || j, 'input_tokens': (j % 1000)::VARCHAR,
         'output_tokens': (j % 100)::VARCHAR, 'cache_read_tokens': '3', 'cache_creation_tokens': '1', 'cost_usd': '0.001'}
  ELSE
    MAP {'event.name': 'gemini_cli.api_response', 'session.id': 's-' || (j % 2000), 'model': 'model-' || (j // 7 % 5),
         'input_token_count': (j % 1000)::VARCHAR, 'output_token_count': (j % 100)::VARCHAR, 'cached_content_token_count': '0',
         'thoughts_token_count': '2'}
  END,
  0, 0,
  {'attributes': MAP {'service.name': CASE WHEN j % 2 = 0 THEN 'claude-code' ELSE 'gemini-cli' END, 'user.id': 'u-' || (j // 3 % 200), 'user.email': 'u-' || (j // 3 % 200) || '@example.com'}, 'dropped_attributes_count': 0},
  '',
  {'name': 'bench', 'version': '1', 'attributes': MAP {}, 'dropped_attributes_count': 0},
  ''
FROM (SELECT CASE WHEN i % 10 = 2 THEN i - 2 ELSE i END AS j FROM range(CAST(:records AS BIGINT)) AS r(i)) AS g;

-- :gateway AI Gateway usage rows for the same day, users and models (as the gateway logs them: requester
-- email, a CLI's User-Agent by turns, Cursor's path every fourth row); a row whose index ends in 3 repeats
-- the row three before it (at-least-once delivery).
INSERT INTO {catalog}.ai_gateway.usage
SELECT
  'gw-' || k,
  to_timestamp(1795305600 + k * 0.086),
  'u-' || (k // 3 % 200) || '@example.com',
  ['claude-cli/2.1.197 (external, sdk-cli)', 'coding-agent-relay (codex)', 'GeminiCLI/0.61.0/gemini-2.5-flash (linux, x64)', 'Go-http-client/2.0'][k % 4 + 1],
  CASE WHEN k % 4 = 3 THEN 'https://gateway.example/cursor/v1/chat/completions' ELSE 'https://gateway.example/anthropic/v1/messages' END,
  'databricks-model-' || (k // 7 % 5),
  k % 1000,
  k % 100,
  k % 1000 + k % 100,
  {'cache_read_input_tokens': k % 10, 'cache_creation_input_tokens': 0}
FROM (SELECT CASE WHEN i % 10 = 3 THEN i - 3 ELSE i END AS k FROM range(CAST(:gateway AS BIGINT)) AS r(i)) AS g;

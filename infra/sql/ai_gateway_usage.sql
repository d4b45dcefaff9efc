-- The columns of the AI Gateway's usage system table (system.ai_gateway.usage) that the usage roll-up reads,
-- as Databricks' own tooling reads them (databricks/ucode src/ucode/usage.py: requester, user_agent,
-- event_time, request_id, destination_model, input_tokens, output_tokens, total_tokens,
-- token_details.cache_read_input_tokens), plus `url` and token_details.cache_creation_input_tokens, which
-- public queries of the table read (not in Databricks' official column list, which this project could not
-- retrieve). In Databricks the table is Databricks' own and is never created here: this DDL makes the
-- empty local stand-in with the same columns ({gateway_usage_table}, in the local catalog because DuckDB
-- reserves the name `system`), and the typed empty relation used when AI_GATEWAY_USAGE_TABLE is empty.
CREATE TABLE IF NOT EXISTS {gateway_usage_table} (
  request_id STRING,
  event_time TIMESTAMP,
  requester STRING,
  user_agent STRING,
  url STRING,
  destination_model STRING,
  input_tokens BIGINT,
  output_tokens BIGINT,
  total_tokens BIGINT,
  token_details STRUCT<cache_read_input_tokens: BIGINT, cache_creation_input_tokens: BIGINT>
) USING DELTA;

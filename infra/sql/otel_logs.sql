-- Unity Catalog table for OTLP logs (one row per log record), schema v1 (the Databricks page "Integrate with coding agents").
-- {catalog}, {schema} and {prefix} are replaced by validated identifiers (UC_CATALOG, UC_SCHEMA, UC_TABLE_PREFIX).
CREATE TABLE IF NOT EXISTS {catalog}.{schema}.{prefix}_otel_logs (
  event_name STRING,
  trace_id STRING,
  span_id STRING,
  time_unix_nano LONG,
  observed_time_unix_nano LONG,
  severity_number STRING,
  severity_text STRING,
  body STRING,
  attributes MAP<STRING, STRING>,
  dropped_attributes_count INT,
  flags INT,
  resource STRUCT<
    attributes: MAP<STRING, STRING>,
    dropped_attributes_count: INT
  >,
  resource_schema_url STRING,
  instrumentation_scope STRUCT<
    name: STRING,
    version: STRING,
    attributes: MAP<STRING, STRING>,
    dropped_attributes_count: INT
  >,
  log_schema_url STRING
) USING DELTA
TBLPROPERTIES ('otel.schemaVersion' = 'v1');

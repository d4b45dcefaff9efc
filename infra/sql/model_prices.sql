-- The price list the usage roll-up prices tokens with: USD per million tokens per model, from a date on.
-- Operators maintain it (seeded by `npm run uc:init` from infra/model-prices.csv, which documents each row's
-- source). `model` is the canonical model name the roll-up uses (lower case, no `system.ai.` or `databricks-`
-- prefix, dots as dashes: `claude-opus-4-6`). A price applies from `effective_from` until a later row's.
CREATE TABLE IF NOT EXISTS {catalog}.{schema}.{prefix}_model_prices (
  model STRING,
  effective_from DATE,
  input_usd_per_mtok DOUBLE,
  output_usd_per_mtok DOUBLE,
  cache_read_usd_per_mtok DOUBLE,
  cache_write_usd_per_mtok DOUBLE,
  source STRING,
  checked_on DATE
) USING DELTA;

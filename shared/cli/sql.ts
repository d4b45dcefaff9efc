import { formatRows } from '../local/format-rows.js';
import { MAX_QUERY_ROWS } from '../local/handle-local-sql.js';
import { localEnvironment } from '../local/local-settings.js';
import { queryLocalRows } from '../local/query-local-rows.js';
import { loadSettings, tableNames } from '../settings.js';
import { tableName } from '../sql/ddl.js';
import { cliArgs, runCli } from './cli-context.js';

const HELP = `
npm run sql -- "<query>" [--json | --csv] [--max-rows <n>]

Runs one read-only query on the local rows: the DuckDB file the embedded ingest writes in local mode
(LOCAL_DUCKDB_PATH, default .local/telemetry.duckdb). Tables have the names they have in Databricks,
<catalog>.<schema>.<table> or <schema>.<table>, e.g. dev.coding_agents.agents_otel_metrics (UC_CATALOG,
UC_SCHEMA, UC_TABLE_PREFIX). Works while npm start runs: the query then goes through it.
Only queries run (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE); statements that write are refused.

  --json             rows as a JSON array of objects (whole values)
  --csv              rows as CSV with a header row (whole values)
  --max-rows <n>     rows to show, 1 to ${MAX_QUERY_ROWS} (default 1000); a note on stderr when there are more
  -h, --help         this text

Examples:
  npm run sql -- "SHOW ALL TABLES"
  npm run sql -- "SELECT name, count(*) FROM coding_agents.agents_otel_metrics GROUP BY name"
  npm run sql -- --csv "FROM coding_agents.agents_usage_daily"
`;

runCli(async () => {
  const { values, positionals } = cliArgs(HELP, {
    options: { json: { type: 'boolean', default: false }, csv: { type: 'boolean', default: false }, 'max-rows': { type: 'string', default: '1000' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new Error(`expected one query in quotes, got ${positionals.length} arguments (see --help)`);
  if (values.json && values.csv) throw new Error('--json and --csv: choose one');
  const maxRows = Number(values['max-rows']);
  if (!/^\d+$/.test(values['max-rows']) || maxRows < 1 || maxRows > MAX_QUERY_ROWS) throw new Error(`--max-rows: expected an integer from 1 to ${MAX_QUERY_ROWS}`);
  const settings = loadSettings(localEnvironment(process.env));
  const names = tableNames(settings);
  if (settings.mode !== 'local') {
    throw new Error(`npm run sql reads the local rows (local mode); with DATABRICKS_HOST set the rows are in ${tableName(names, '_otel_metrics')} and its siblings: query them in a Databricks SQL editor`);
  }
  const result = await queryLocalRows({ path: settings.localDuckdbPath, names, port: settings.localPort, sql: positionals[0]!, maxRows });
  process.stdout.write(formatRows(result, values.json ? 'json' : values.csv ? 'csv' : 'table'));
  if (result.truncated) console.error(`only the first ${maxRows} rows are shown: raise --max-rows or add LIMIT/WHERE`);
});

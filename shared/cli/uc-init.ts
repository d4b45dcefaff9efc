import { loadTableDdl, tableName } from '../sql/ddl.js';
import { cliArgs, cliContext, runCli } from './cli-context.js';

const TABLE_FILES = ['otel_metrics', 'otel_logs', 'otel_spans', 'usage_daily'];

const HELP = `
npm run uc:init -- [--principal <application id or name>]

Creates the Unity Catalog tables if missing (DDL in infra/sql/; the schema must exist) and prints
the grants the relay's principal needs. In local mode the same tables are created in DuckDB.

  --principal <id>   the relay's principal, written into the printed GRANT statements
  -h, --help         this text
`;

runCli(async () => {
  const { values } = cliArgs(HELP, { options: { principal: { type: 'string' } } });
  const { settings, names, openStore } = await cliContext();
  const principal = values.principal ?? '<relay-principal>';
  if (!/^[<>\w .@-]+$/.test(principal)) throw new Error('--principal: expected an application id, user or group name');
  const { store, close } = await openStore();
  try {
    for (const file of TABLE_FILES) {
      const ddl = loadTableDdl(file, names);
      await store.execute(store.dialect === 'databricks' ? ddl.databricks : ddl.duckdb, {});
      console.log(`table ${ddl.table}: present`);
    }
  } finally {
    await close();
  }
  console.log(`\nGrants for the relay's principal (${settings.mode === 'local' ? 'for Databricks; DuckDB has none' : 'run as a catalog owner'}):`);
  console.log(`GRANT USE CATALOG ON CATALOG ${names.catalog} TO \`${principal}\`;`);
  console.log(`GRANT USE SCHEMA ON SCHEMA ${names.catalog}.${names.schema} TO \`${principal}\`;`);
  for (const suffix of ['_otel_metrics', '_otel_logs', '_otel_spans', '_usage_daily']) {
    console.log(`GRANT MODIFY, SELECT ON TABLE ${tableName(names, suffix)} TO \`${principal}\`;`);
  }
  console.log(`-- and, for the roll-up, CAN USE on the SQL warehouse at DATABRICKS_WAREHOUSE_HTTP_PATH.`);
});

import { tableName } from '../sql/ddl.js';
import { setUpTables } from '../usage/table-setup.js';
import { cliArgs, cliContext, runCli } from './cli-context.js';

const HELP = `
npm run uc:init -- [--principal <application id or name>]

Creates the Unity Catalog tables if missing and adds columns they lack (DDL in infra/sql/; the schema
must exist), adds the price list's seed rows (infra/model-prices.csv), and prints the grants the
relay's principal needs, the AI Gateway's usage table included. In local mode the same happens in DuckDB.

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
    await setUpTables(store, names, (line) => console.log(line));
  } finally {
    await close();
  }
  console.log(`\nGrants for the relay's principal (${settings.mode === 'local' ? 'for Databricks; DuckDB has none' : 'run as a catalog owner'}):`);
  console.log(`GRANT USE CATALOG ON CATALOG ${names.catalog} TO \`${principal}\`;`);
  console.log(`GRANT USE SCHEMA ON SCHEMA ${names.catalog}.${names.schema} TO \`${principal}\`;`);
  for (const suffix of ['_otel_metrics', '_otel_logs', '_otel_spans', '_usage_daily', '_model_prices']) {
    console.log(`GRANT MODIFY, SELECT ON TABLE ${tableName(names, suffix)} TO \`${principal}\`;`);
  }
  console.log(`-- and, for the roll-up, CAN USE on the SQL warehouse at DATABRICKS_WAREHOUSE_HTTP_PATH.`);
  const gateway = settings.usage.gatewayUsageTable;
  if (settings.mode === 'databricks' && gateway) {
    const [catalog, schema] = gateway.split('.');
    console.log(`\nThe AI Gateway's usage table (AI_GATEWAY_USAGE_TABLE) is readable only by account and metastore admins until`);
    console.log(`granted; a metastore admin runs (the table is billable; empty AI_GATEWAY_USAGE_TABLE stops reading it):`);
    console.log(`GRANT USE CATALOG ON CATALOG ${catalog} TO \`${principal}\`;`);
    console.log(`GRANT USE SCHEMA ON SCHEMA ${catalog}.${schema} TO \`${principal}\`;`);
    console.log(`GRANT SELECT ON TABLE ${gateway} TO \`${principal}\`;`);
  } else if (gateway) {
    console.log(`\nLocal mode: ${gateway} is the empty stand-in for the AI Gateway's usage table (fill it to try the roll-up).`);
  }
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lakeviewDashboard, lakeviewTemplate, LAKEVIEW_TEMPLATE } from '../dashboard/lakeview-dashboard.js';
import { publishLakeview } from '../dashboard/publish-lakeview.js';
import { databricksTokenProvider } from '../databricks-token.js';
import { projectRoot } from '../sql/ddl.js';
import { cliArgs, cliContext, runCli } from './cli-context.js';

const HELP = `
npm run dashboard                      prints the Databricks dashboard for the configured tables (import it by hand)
npm run dashboard -- --publish [--folder /Shared/coding-agent-relay] [--name "Coding agent usage"] [--embed-credentials]
                                       creates or updates it in the workspace, publishes it, prints its URL
                                       (needs DATABRICKS_HOST and DATABRICKS_WAREHOUSE_HTTP_PATH)
npm run dashboard -- --write-template  rewrites ${LAKEVIEW_TEMPLATE} from the code
npm run dashboard -- --help            this text
`;

runCli(async () => {
  const { values } = cliArgs(HELP, {
    options: {
      publish: { type: 'boolean', default: false },
      folder: { type: 'string', default: '/Shared/coding-agent-relay' },
      name: { type: 'string', default: 'Coding agent usage' },
      'embed-credentials': { type: 'boolean', default: false },
      'write-template': { type: 'boolean', default: false },
    },
  });
  if (values['write-template']) {
    writeFileSync(join(projectRoot(), LAKEVIEW_TEMPLATE), JSON.stringify(lakeviewTemplate(), null, 2) + '\n');
    console.log(`wrote ${LAKEVIEW_TEMPLATE}`);
    return;
  }
  const { settings, secrets, names } = await cliContext();
  const dashboard = lakeviewDashboard(names);
  if (!values.publish) {
    console.log(JSON.stringify(dashboard, null, 2));
    return;
  }
  if (settings.mode !== 'databricks') throw new Error('--publish needs DATABRICKS_HOST (the workspace to publish to)');
  const warehouseId = settings.usage.warehouseHttpPath?.split('/').at(-1);
  if (!warehouseId) throw new Error('--publish needs DATABRICKS_WAREHOUSE_HTTP_PATH (the dashboard runs its queries on that warehouse)');
  if (!/^\/[^\n]{0,500}$/.test(values.folder) || /[\n"]/.test(values.name)) throw new Error('--folder must be a workspace path starting with /; --name one line without quotes');
  const result = await publishLakeview({
    host: settings.databricksHost!,
    tokens: databricksTokenProvider(settings, secrets),
    warehouseId,
    folder: values.folder,
    displayName: values.name,
    serializedDashboard: JSON.stringify(dashboard),
    embedCredentials: values['embed-credentials'],
  });
  console.log(`${result.created ? 'created' : 'updated'} and published dashboard ${result.dashboardId}: ${result.url}`);
});

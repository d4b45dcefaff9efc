import { fakeDatabricksIngest } from './databricks-ingest.js';
import { fakeKeyVault } from './key-vault.js';
import { fakeManagedIdentity } from './managed-identity.js';

/**
 * What a Databricks-mode app reaches over the network, as loopback fakes: Key Vault holding `secrets`,
 * the managed identity endpoint (put in the process environment, where @azure/identity reads it) and the
 * ingest. `settings` point an app at them; `close` stops them and restores the environment.
 */
export type StandIns = Awaited<ReturnType<typeof azureStandIns>>;

export async function azureStandIns(secrets: Record<string, string>) {
  const saved = { ...process.env };
  const [vault, identity, ingest] = await Promise.all([fakeKeyVault(secrets), fakeManagedIdentity(), fakeDatabricksIngest()]);
  Object.assign(process.env, identity.env);
  return {
    vault,
    identity,
    ingest,
    settings: {
      DATABRICKS_HOST: 'https://adb-123.4.azuredatabricks.net',
      OTEL_INGEST_URL: `${ingest.url}/api/2.0/otel`,
      KEY_VAULT_URL: vault.url,
      UC_CATALOG: 'main',
      UC_SCHEMA: 'telemetry',
      UC_TABLE_PREFIX: 'agents',
    },
    async close(): Promise<void> {
      await Promise.all([vault.close(), identity.close(), ingest.close()]);
      process.env = saved;
    },
  };
}

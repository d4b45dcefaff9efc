import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { environmentVariableFor } from '../secrets.js';
import type { Env, Settings } from '../settings.js';

/**
 * Local mode needs no real secrets. When the environment does not provide them:
 * - the Databricks token is made up per process (the relay and the embedded ingest share it);
 * - the relay signing key is created once and kept next to the DuckDB file (mode 0600), so
 *   credentials issued by `npm run credential` or the config endpoint survive restarts.
 */
export function withLocalSecrets(settings: Settings, env: Env): Env {
  if (settings.mode !== 'local' || settings.keyVaultUrl) return env;
  const defaults: Env = {};
  const tokenVariable = environmentVariableFor(settings.secretNames.databricksToken);
  if (!env[tokenVariable]) defaults[tokenVariable] = randomBytes(24).toString('base64url');
  const keyVariable = environmentVariableFor(settings.credentialSecretNames.signingKey);
  if (!env[keyVariable]) defaults[keyVariable] = localSigningKey(join(dirname(settings.localDuckdbPath), 'relay-signing-key'));
  return { ...env, ...defaults };
}

function localSigningKey(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

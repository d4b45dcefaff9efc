import { existsSync, readFileSync } from 'node:fs';
import type { Env } from '../settings.js';

/**
 * Settings as Azure Functions Core Tools sees them: `local.settings.json` `Values` under the process
 * environment (a variable set in the shell wins, so one run can be changed without editing the file).
 */
export function localEnvironment(env: Env, file = 'local.settings.json'): Env {
  if (!existsSync(file)) return env;
  let values: unknown;
  try {
    values = (JSON.parse(readFileSync(file, 'utf8')) as { Values?: unknown }).Values;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (values === undefined) return env;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new Error(`${file}: "Values" must be an object`);
  const fromFile: Env = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'string') throw new Error(`${file}: Values.${name} must be a string`);
    fromFile[name] = value;
  }
  return { ...fromFile, ...env };
}

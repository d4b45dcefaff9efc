import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { Refusal } from './http.js';
import { isLoopbackUrl, type Env, type Settings } from './settings.js';

/** Where secret values live: Azure Key Vault in Azure, the environment locally. */
export interface SecretSource {
  readonly kind: 'key-vault' | 'environment';
  read(name: string): Promise<string>;
}

/*
 * A secret the app needs that cannot be had is the operator's problem, not the client's: both errors
 * answer 503 with a short Retry-After (OTLP clients retry 503 and drop data on a final status). The
 * messages name the secret, never its value.
 */
export class SecretNotFoundError extends Refusal {
  constructor(message: string) {
    super(503, message, { 'retry-after': '3' });
  }
}
export class SecretUnavailableError extends Refusal {
  constructor(message: string) {
    super(503, message, { 'retry-after': '2' });
  }
}

export function keyVaultSource(vaultUrl: string, credential: TokenCredential): SecretSource {
  // A loopback http vault is an emulator or a test fake: the SDK refuses http and checks that the
  // challenge names vault.azure.net unless told otherwise.
  const loopback = isLoopbackUrl(new URL(vaultUrl));
  const client = new SecretClient(vaultUrl, credential, {
    allowInsecureConnection: loopback,
    disableChallengeResourceVerification: loopback,
    retryOptions: { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
  });
  return {
    kind: 'key-vault',
    async read(name) {
      try {
        const secret = await client.getSecret(name);
        if (secret.value === undefined) throw new SecretNotFoundError(`secret "${name}" has no value in Key Vault`);
        return secret.value;
      } catch (err) {
        if (err instanceof SecretNotFoundError) throw err;
        const e = err as { statusCode?: number; code?: string };
        if (e.statusCode === 404) throw new SecretNotFoundError(`secret "${name}" not found in Key Vault`);
        throw new SecretUnavailableError(`cannot read secret "${name}" from Key Vault (${e.statusCode ?? e.code ?? 'network error'})`);
      }
    },
  };
}

/** Secret `databricks-token` is read from environment variable `DATABRICKS_TOKEN`, and so on. */
export function environmentVariableFor(secretName: string): string {
  return secretName.toUpperCase().replace(/-/g, '_');
}

export function environmentSource(env: Env): SecretSource {
  return {
    kind: 'environment',
    async read(name) {
      const variable = environmentVariableFor(name);
      const value = env[variable];
      if (!value) throw new SecretNotFoundError(`secret "${name}" is not set: define environment variable ${variable}`);
      return value;
    },
  };
}

export interface SecretCacheOptions {
  ttlMs: number;
  /** How long past the TTL a value may still be served while the source is failing. */
  maxStaleMs: number;
  now?: () => number;
  warn?: (message: string) => void;
}

interface Entry {
  value?: string;
  /** A missing optional secret reads as '' and is cached like a value, so Key Vault is not asked on every request. */
  optional: boolean;
  fetchedAt: number;
  /** While serving a stale value after a failed refresh, the next refresh waits until then. */
  retryAt: number;
  inflight?: Promise<string>;
}

/** After a failed refresh, a stale value is served this long before the source is asked again. */
const STALE_RETRY_MS = 5000;

/**
 * Secrets in memory with a TTL. Concurrent readers share one fetch; a source outage is bridged with
 * the last good value for `maxStaleMs`; `invalidate` drops a value the upstream refused (rotation).
 */
export class SecretCache {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  /** Number of reads sent to the source (reported by health and the benchmark). */
  fetches = 0;

  constructor(
    readonly source: SecretSource,
    private readonly options: SecretCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get(name: string): Promise<string> {
    return this.read(name, false);
  }

  /** Like `get`, but a secret that does not exist reads as ''. */
  getOptional(name: string): Promise<string> {
    return this.read(name, true);
  }

  private read(name: string, optional: boolean): Promise<string> {
    let entry = this.entries.get(name);
    if (!entry) {
      entry = { optional, fetchedAt: 0, retryAt: 0 };
      this.entries.set(name, entry);
    }
    if (entry.value !== undefined) {
      const now = this.now();
      const age = now - entry.fetchedAt;
      if (age < this.options.ttlMs) return Promise.resolve(entry.value);
      if (now < entry.retryAt && age < this.options.ttlMs + this.options.maxStaleMs) return Promise.resolve(entry.value);
    }
    return (entry.inflight ??= this.refresh(name, entry));
  }

  invalidate(name: string): void {
    const entry = this.entries.get(name);
    if (entry) entry.value = undefined;
  }

  private async refresh(name: string, entry: Entry): Promise<string> {
    this.fetches++;
    try {
      const value = await this.source.read(name).catch((err: unknown) => {
        if (entry.optional && err instanceof SecretNotFoundError) return '';
        throw err;
      });
      Object.assign(entry, { value, fetchedAt: this.now(), retryAt: 0 });
      return value;
    } catch (err) {
      const now = this.now();
      const usable = entry.value !== undefined && now - entry.fetchedAt < this.options.ttlMs + this.options.maxStaleMs;
      if (!usable || err instanceof SecretNotFoundError) throw err;
      entry.retryAt = now + STALE_RETRY_MS;
      this.options.warn?.(`serving cached secret "${name}" past its TTL: ${(err as Error).message}`);
      return entry.value!;
    } finally {
      entry.inflight = undefined;
    }
  }
}

/**
 * The app's secrets: Key Vault through the app's identity when KEY_VAULT_URL is set, else the
 * environment. `observe` wraps the source (the app counts and logs each read there).
 */
export function secretCacheFor(settings: Settings, env: Env, warn: (message: string) => void, observe = (source: SecretSource) => source): SecretCache {
  const source = settings.keyVaultUrl
    ? keyVaultSource(settings.keyVaultUrl, new DefaultAzureCredential({ managedIdentityClientId: settings.azureClientId }))
    : environmentSource(env);
  return new SecretCache(observe(source), { ttlMs: settings.secretCacheTtlMs, maxStaleMs: settings.secretMaxStaleMs, warn });
}

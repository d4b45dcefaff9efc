import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { Refusal } from './http.js';
import { isLoopbackUrl, type Env, type Settings } from './settings.js';

/** Where secret values live: Azure Key Vault in Azure, the environment locally. */
export interface SecretSource {
  readonly kind: 'key-vault' | 'environment';
  /** Reads one secret; gives up (SecretUnavailableError) once `signal` aborts. */
  read(name: string, signal?: AbortSignal): Promise<string>;
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
    async read(name, signal) {
      try {
        const secret = await client.getSecret(name, { abortSignal: signal });
        if (secret.value === undefined) throw new SecretNotFoundError(`secret "${name}" has no value in Key Vault`);
        return secret.value;
      } catch (err) {
        if (err instanceof SecretNotFoundError) throw err;
        const e = err as { statusCode?: number; code?: string; name?: string };
        if (e.statusCode === 404) throw new SecretNotFoundError(`secret "${name}" not found in Key Vault`);
        const why = signal?.aborted ? 'timed out' : (e.statusCode ?? e.code ?? 'network error');
        throw new SecretUnavailableError(`cannot read secret "${name}" from Key Vault (${why})`);
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
  /** Longest wait for one read of the source; a read still pending then fails. */
  timeoutMs: number;
  now?: () => number;
  warn?: (message: string) => void;
}

interface Entry {
  value?: string;
  /** A missing optional secret reads as '' and is cached like a value, so Key Vault is not asked on every request. */
  optional: boolean;
  fetchedAt: number;
  /** After a failed read, the source is not asked again before then (backoff). */
  retryAt: number;
  /** Consecutive failed reads, for the backoff. */
  failures: number;
  /** The last failure, repeated to callers without a usable value until `retryAt`. */
  error?: Error;
  inflight?: Promise<string>;
}

/** Backoff after failed reads: 1 s, 2 s, 4 s ... up to 30 s. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/**
 * Secrets in memory with a TTL. Concurrent readers share one read of the source, and no read waits
 * longer than `timeoutMs`. A value past its TTL is still served at once while it is refreshed in the
 * background (and for `maxStaleMs` while the source fails), so a hanging or failing Key Vault never
 * holds up a request for a secret the process already has. Failed reads are retried with backoff.
 * `invalidate` drops a value the upstream refused (rotation).
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

  /** The value, when it is held and within its TTL; undefined otherwise. Never reads the source. */
  peek(name: string): string | undefined {
    const entry = this.entries.get(name);
    return entry?.value !== undefined && this.now() - entry.fetchedAt < this.options.ttlMs ? entry.value : undefined;
  }

  private read(name: string, optional: boolean): Promise<string> {
    let entry = this.entries.get(name);
    if (!entry) {
      entry = { optional, fetchedAt: 0, retryAt: 0, failures: 0 };
      this.entries.set(name, entry);
    }
    const now = this.now();
    if (entry.value !== undefined) {
      const age = now - entry.fetchedAt;
      if (age < this.options.ttlMs) return Promise.resolve(entry.value);
      if (age < this.options.ttlMs + this.options.maxStaleMs) {
        // Serve what we have; refresh in the background unless one is running or backing off.
        if (!entry.inflight && now >= entry.retryAt) entry.inflight = this.refresh(name, entry);
        return Promise.resolve(entry.value);
      }
    } else if (entry.error && now < entry.retryAt && !entry.inflight) {
      return Promise.reject(entry.error);
    }
    return (entry.inflight ??= this.refresh(name, entry));
  }

  invalidate(name: string): void {
    const entry = this.entries.get(name);
    if (entry) Object.assign(entry, { value: undefined, retryAt: 0, error: undefined });
  }

  private async refresh(name: string, entry: Entry): Promise<string> {
    this.fetches++;
    try {
      const value = await this.readSource(name).catch((err: unknown) => {
        if (entry.optional && err instanceof SecretNotFoundError) return '';
        throw err;
      });
      Object.assign(entry, { value, fetchedAt: this.now(), retryAt: 0, failures: 0, error: undefined });
      return value;
    } catch (err) {
      const now = this.now();
      entry.failures++;
      entry.retryAt = now + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (entry.failures - 1));
      entry.error = err as Error;
      const usable = entry.value !== undefined && now - entry.fetchedAt < this.options.ttlMs + this.options.maxStaleMs;
      if (!usable || err instanceof SecretNotFoundError) {
        entry.value = undefined;
        throw err;
      }
      this.options.warn?.(`serving cached secret "${name}" past its TTL: ${(err as Error).message}`);
      return entry.value!;
    } finally {
      entry.inflight = undefined;
    }
  }

  /** One read of the source, given up after `timeoutMs` even if the source ignores the abort. */
  private readSource(name: string): Promise<string> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new SecretUnavailableError(`cannot read secret "${name}" (${this.source.kind}: no answer within ${this.options.timeoutMs} ms)`));
      }, this.options.timeoutMs);
    });
    return Promise.race([this.source.read(name, controller.signal), timeout]).finally(() => clearTimeout(timer));
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
  return new SecretCache(observe(source), {
    ttlMs: settings.secretCacheTtlMs,
    maxStaleMs: settings.secretMaxStaleMs,
    timeoutMs: settings.keyVaultTimeoutMs,
    warn,
  });
}

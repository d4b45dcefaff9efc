import type { Log } from '../log.js';
import { SecretNotFoundError, type SecretSource } from '../secrets.js';

export interface ObservedSecretSource extends SecretSource {
  /** Reads so far, by outcome (the metrics read them at collection). */
  reads(): Iterable<{ source: string; outcome: string; count: number }>;
}

/**
 * Every read that reaches the secret source (Key Vault or the environment; the cache in front of it
 * keeps these to about one per secret per TTL) is counted and logged as one JSON line: the secret's
 * name, the outcome and the time it took. Never the value.
 */
export function observeSecrets(source: SecretSource, log: Log): ObservedSecretSource {
  const counts = new Map<string, number>();
  const count = (outcome: string) => counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  return {
    kind: source.kind,
    async read(name, signal) {
      const started = performance.now();
      const durationMs = () => Math.round((performance.now() - started) * 10) / 10;
      try {
        const value = await source.read(name, signal);
        count('ok');
        log.info('secret.read', { secret: name, source: source.kind, outcome: 'ok', durationMs: durationMs() });
        return value;
      } catch (err) {
        const outcome = err instanceof SecretNotFoundError ? 'not_found' : 'unavailable';
        count(outcome);
        log.warn('secret.read', { secret: name, source: source.kind, outcome, durationMs: durationMs(), reason: (err as Error).message });
        throw err;
      }
    },
    *reads() {
      for (const [outcome, n] of counts) yield { source: source.kind, outcome, count: n };
    },
  };
}

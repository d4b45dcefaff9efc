import { jsonResponse, type Handler } from './http.js';

/** One dependency readiness checks: throws an Error whose message says what is wrong (never a secret). */
export interface ReadinessCheck {
  name: string;
  run(): Promise<void>;
}

export interface HealthOptions {
  /** The liveness answer's body: mode, where exports go, and the like. */
  describe: () => Record<string, unknown>;
  /** Checked in order by `?ready=1`; the first failure is named. */
  checks: readonly ReadinessCheck[];
  /** How long a readiness answer is reused: probes must not turn into Key Vault or ingest load. */
  cacheMs: number;
  now?: () => number;
}

interface Readiness {
  ready: boolean;
  body: Record<string, unknown>;
  at: number;
}

/**
 * GET /api/health: liveness (the process answers; what it is configured to do). GET /api/health?ready=1:
 * readiness, 200 when every dependency answers, else 503 naming the first one that does not.
 */
export function healthHandler(options: HealthOptions): Handler {
  const now = options.now ?? Date.now;
  let last: Readiness | undefined;
  let inflight: Promise<Readiness> | undefined;

  async function check(): Promise<Readiness> {
    const checks: Record<string, string> = {};
    for (const { name, run } of options.checks) {
      try {
        await run();
        checks[name] = 'ok';
      } catch (err) {
        checks[name] = (err as Error).message;
        return { ready: false, at: now(), body: { status: 'not ready', failing: name, reason: (err as Error).message, checks } };
      }
    }
    return { ready: true, at: now(), body: { status: 'ready', checks } };
  }

  return async (request) => {
    const ready = new URL(request.url, 'http://relay').searchParams.get('ready');
    if (ready === null || ready === '0' || ready === 'false') return jsonResponse(200, { status: 'ok', ...options.describe() });
    if (!last || now() - last.at >= options.cacheMs) {
      last = await (inflight ??= check().finally(() => (inflight = undefined)));
    }
    return jsonResponse(last.ready ? 200 : 503, last.body, last.ready ? { 'cache-control': 'no-store' } : { 'cache-control': 'no-store', 'retry-after': '5' });
  };
}

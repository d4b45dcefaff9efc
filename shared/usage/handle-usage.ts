import { jsonResponse, type PlainRequest, type PlainResponse } from '../http.js';
import { requestedRange, rollupUsage, UsageRangeError } from './rollup-usage.js';
import { USAGE_NOT_CONFIGURED } from './usage-store-for.js';
import type { UsageStore } from './usage-store.js';
import type { UsageTables } from './usage-tables.js';

/**
 * POST /api/usage/rollup?from=YYYY-MM-DD&to=YYYY-MM-DD: an on-demand run (admin only: the Functions
 * binding requires the master key). Without from/to it recomputes the usual recent window.
 */
export function usageHandler(deps: { store: UsageStore | undefined; tables: UsageTables; windowDays: number; warn: (message: string) => void }) {
  return async (request: PlainRequest): Promise<PlainResponse> => {
    if (request.method !== 'POST') return jsonResponse(405, { error: `method ${request.method} not allowed: use POST` }, { allow: 'POST' });
    if (!deps.store) return jsonResponse(503, { error: USAGE_NOT_CONFIGURED });
    const query = new URL(request.url, 'http://relay').searchParams;
    const range = requestedRange(query.get('from') ?? undefined, query.get('to') ?? undefined, deps.windowDays);
    const started = Date.now();
    try {
      const result = await rollupUsage(deps.store, deps.tables, range, new Date(), deps.warn);
      return jsonResponse(200, { ...result, durationMs: Date.now() - started });
    } catch (err) {
      if (err instanceof UsageRangeError) return jsonResponse(400, { error: err.message });
      throw err;
    }
  };
}

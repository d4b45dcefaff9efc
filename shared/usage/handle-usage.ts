import { jsonResponse, type PlainRequest, type PlainResponse } from '../http.js';
import type { TableNames } from '../sql/ddl.js';
import { requestedRange, rollupUsage, UsageRangeError } from './rollup-usage.js';
import { USAGE_NOT_CONFIGURED } from './usage-store-for.js';
import type { UsageStore } from './usage-store.js';

/**
 * POST /api/usage/rollup?from=YYYY-MM-DD&to=YYYY-MM-DD: an on-demand run (admin only: the Functions
 * binding requires the master key). Without from/to it recomputes the usual recent window.
 */
export function usageHandler(deps: { store: UsageStore | undefined; names: TableNames; windowDays: number }) {
  return async (request: PlainRequest): Promise<PlainResponse> => {
    if (request.method !== 'POST') return jsonResponse(405, { error: `method ${request.method} not allowed: use POST` }, { allow: 'POST' });
    if (!deps.store) return jsonResponse(503, { error: USAGE_NOT_CONFIGURED });
    const query = new URL(request.url, 'http://relay').searchParams;
    const range = requestedRange(query.get('from') ?? undefined, query.get('to') ?? undefined, deps.windowDays);
    const started = Date.now();
    try {
      const result = await rollupUsage(deps.store, deps.names, range);
      return jsonResponse(200, { ...result, durationMs: Date.now() - started });
    } catch (err) {
      if (err instanceof UsageRangeError) return jsonResponse(400, { error: err.message });
      throw err;
    }
  };
}

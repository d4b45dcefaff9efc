import { jsonResponse, type PlainRequest, type PlainResponse } from '../http.js';
import { signedInUser, type SignedInUser, type UserSignIn } from '../identity/user-sign-in.js';
import type { TableNames } from '../sql/ddl.js';
import { isTransientWarehouseError } from './databricks-usage-store.js';
import { readUsage } from './read-usage.js';
import { usageCsv } from './usage-csv.js';
import { parseUsageQuery, UsageQueryError } from './usage-query.js';
import { USAGE_NOT_CONFIGURED } from './usage-store-for.js';
import type { UsageStore } from './usage-store.js';

export interface UsageReadDeps {
  store: UsageStore | undefined;
  names: TableNames;
  userSignIn: UserSignIn | undefined;
  adminRole: string;
  maxDays: number;
  now?: () => Date;
}

/** How long a client should wait when the SQL warehouse is starting (a cold start takes seconds to minutes). */
const WAREHOUSE_RETRY_SECONDS = '30';

/** Who reads everyone's rows: holders of the admin app role, and the local identity (local mode only). */
export function isUsageAdmin(user: SignedInUser, adminRole: string): boolean {
  return user.source === 'local' || user.roles.includes(adminRole);
}

/**
 * GET /api/usage?from=&to=&group_by=&agent=&user=&model=&format=: the daily usage table summed over
 * the requested groups, as JSON or CSV. A signed-in user reads their own rows; the admin role reads
 * everyone's.
 */
export function usageReadHandler(deps: UsageReadDeps) {
  return async (request: PlainRequest): Promise<PlainResponse> => {
    if (request.method !== 'GET') return jsonResponse(405, { error: `method ${request.method} not allowed: use GET` }, { allow: 'GET' });
    const user = await signedInUser(deps.userSignIn, request.headers);
    let query;
    try {
      query = parseUsageQuery(new URL(request.url, 'http://relay').searchParams, request.headers.accept, { maxDays: deps.maxDays, now: deps.now?.() });
    } catch (err) {
      if (err instanceof UsageQueryError) return jsonResponse(400, { error: err.message, parameter: err.parameter });
      throw err;
    }
    const admin = isUsageAdmin(user, deps.adminRole);
    const asked = query.filters.user;
    if (!admin && asked !== undefined && asked !== user.id && asked.toLowerCase() !== user.email.toLowerCase()) {
      return jsonResponse(403, { error: `only holders of the app role ${deps.adminRole} may read other users' usage`, parameter: 'user' });
    }
    if (!deps.store) return jsonResponse(503, { error: USAGE_NOT_CONFIGURED });
    let report;
    try {
      report = await readUsage(deps.store, deps.names, query, admin ? undefined : user.id);
    } catch (err) {
      if (!isTransientWarehouseError(err)) throw err;
      return jsonResponse(503, { error: `the SQL warehouse is starting or unavailable; retry in ${WAREHOUSE_RETRY_SECONDS} s` }, { 'retry-after': WAREHOUSE_RETRY_SECONDS, 'cache-control': 'no-store' });
    }
    // Usage is personal data: never cached by a shared cache.
    if (query.format === 'csv') {
      return {
        status: 200,
        headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="usage-${query.from}-${query.to}.csv"`, 'cache-control': 'no-store' },
        body: Buffer.from(usageCsv(report)),
      };
    }
    return jsonResponse(200, report, { 'cache-control': 'no-store' });
  };
}

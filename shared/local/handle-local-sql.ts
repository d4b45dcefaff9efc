import { BodyTooLargeError, jsonResponse, Refusal, type Handler } from '../http.js';
import { readOnlyQuery } from './read-only-query.js';
import type { TelemetryDb } from './telemetry-db.js';

export const MAX_QUERY_ROWS = 100_000;
const MAX_QUERY_BYTES = 64 * 1024;

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

/**
 * POST /api/local/sql: one read-only query on the embedded ingest's DuckDB file, for `npm run sql`
 * while `npm start` holds the file (DuckDB lets one process at a time open it). Body
 * `{"sql": "...", "maxRows": n}`; answer `{columns, types, rows, truncated}`. Only for a loopback
 * Host (a page elsewhere cannot reach it by DNS rebinding) and a JSON body (a cross-site form cannot
 * send one without a preflight the app never answers). The app answers 404 outside local mode.
 */
export function localSqlHandler(db: TelemetryDb): Handler {
  return async (request) => {
    if (!LOOPBACK_HOST.test(request.headers.host ?? '')) throw new Refusal(403, 'POST /api/local/sql answers only on a loopback host (127.0.0.1, localhost)');
    if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) throw new Refusal(415, 'send Content-Type: application/json');
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(await request.body.read(MAX_QUERY_BYTES)).toString('utf8'));
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw new Refusal(413, `body: at most ${MAX_QUERY_BYTES} bytes`);
      throw new Refusal(400, 'body: expected JSON {"sql": "<query>", "maxRows": <n>}');
    }
    const { sql, maxRows = 1000 } = (body ?? {}) as { sql?: unknown; maxRows?: unknown };
    if (typeof sql !== 'string' || sql.trim() === '') throw new Refusal(400, 'sql: expected the query as a string');
    if (!Number.isInteger(maxRows) || (maxRows as number) < 1 || (maxRows as number) > MAX_QUERY_ROWS) throw new Refusal(400, `maxRows: expected an integer from 1 to ${MAX_QUERY_ROWS}`);
    const connection = await db.reader();
    try {
      return jsonResponse(200, await readOnlyQuery(connection, sql, maxRows as number), { 'cache-control': 'no-store' });
    } finally {
      connection.closeSync();
    }
  };
}

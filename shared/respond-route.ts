import { jsonResponse, Refusal, type PlainRequest, type PlainResponse } from './http.js';
import { redact, type Log } from './log.js';
import { codecFor, jsonCodec } from './otlp/codec.js';
import { errorResponse } from './relay/respond.js';
import type { Route } from './routes.js';

/*
 * The one place where a route's answer is made safe: a wrong method is refused with 405 and `Allow`,
 * a Refusal thrown by any module becomes the route's kind of error body, and anything else is logged
 * (redacted) and answered with a generic 500, so no internal detail reaches a client and nothing
 * reaches the Functions host as an exception (which it would answer with a bare 500).
 */

/** A refusal as the route writes errors: OTLP google.rpc.Status in the caller's encoding, or `{"error": ...}`. */
export function refusalResponse(route: Route, request: PlainRequest, refusal: Refusal): PlainResponse {
  if (route.errors === 'otlp') return errorResponse(codecFor(request.headers['content-type']) ?? jsonCodec, refusal.status, refusal.message, refusal.headers);
  return jsonResponse(refusal.status, { error: refusal.message }, refusal.headers);
}

export async function respondRoute(route: Route, request: PlainRequest, run: () => Promise<PlainResponse>, log: Log): Promise<PlainResponse> {
  try {
    if (!route.methods.includes(request.method as Route['methods'][number])) {
      throw new Refusal(405, `method ${request.method} not allowed: use ${route.methods.join(', ')}`, { allow: route.methods.join(', ') });
    }
    return await run();
  } catch (err) {
    if (err instanceof Refusal) return refusalResponse(route, request, err);
    log.error('route.failed', { route: route.name, method: request.method, status: 500, reason: redact((err as Error)?.stack ?? String(err)) });
    return refusalResponse(route, request, new Refusal(500, 'internal error'));
  }
}

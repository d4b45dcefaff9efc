import { jsonResponse, Refusal, type PlainResponse } from '../shared/http.js';

/** A handler answering its Refusals as a JSON route does (shared/respond-route.ts), for tests that call handlers directly. */
export function answering<A extends unknown[]>(handler: (...args: A) => Promise<PlainResponse>): (...args: A) => Promise<PlainResponse> {
  return async (...args) => {
    try {
      return await handler(...args);
    } catch (err) {
      if (err instanceof Refusal) return jsonResponse(err.status, { error: err.message }, err.headers);
      throw err;
    }
  };
}

import type { App } from './app.js';
import { jsonResponse, Refusal, type Handler, type PlainRequest, type PlainResponse } from './http.js';
import type { Log } from './log.js';
import { respondRoute } from './respond-route.js';
import { ROUTE_PREFIX, ROUTES, type Route } from './routes.js';

export interface RouteMatch {
  route: Route;
  /** Path parameters as they appear in the URL (still percent-encoded). */
  rawParams: Record<string, string>;
}

/**
 * Finds the route of a URL as the Functions host does (ASP.NET Core routing): literal segments match
 * case-insensitively, `{name}` matches one non-empty segment (percent-decoded), a trailing slash is
 * ignored, and a literal segment wins over a parameter.
 */
export function matchRoute(routes: readonly Route[], url: string): RouteMatch | undefined {
  const path = url.split('?')[0]!.replace(/\/+$/, '');
  if (path.toLowerCase() !== ROUTE_PREFIX && !path.toLowerCase().startsWith(`${ROUTE_PREFIX}/`)) return undefined;
  const segments = path.slice(ROUTE_PREFIX.length + 1).split('/');
  let best: { match: RouteMatch; literals: number } | undefined;
  for (const route of routes) {
    const template = route.path.split('/');
    if (template.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const matches = template.every((part, i) => {
      const segment = segments[i]!;
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name === undefined) return part.toLowerCase() === segment.toLowerCase() && ++literals > 0;
      if (segment === '') return false;
      params[name] = segment;
      return true;
    });
    if (matches && (!best || literals > best.literals)) best = { match: { route, rawParams: params }, literals };
  }
  return best?.match;
}

/** Path parameters decoded as the host hands them over; a malformed percent-encoding is the client's fault. */
export function decodeParams(rawParams: Record<string, string>): Record<string, string> {
  try {
    return Object.fromEntries(Object.entries(rawParams).map(([name, value]) => [name, decodeURIComponent(value)]));
  } catch {
    throw new Refusal(400, 'malformed percent-encoding in the URL path');
  }
}

/**
 * The local runner's router: the same table and the same answers as under the host. `serve` runs the
 * matched route (the local runner's app, or the start-up state under a stand-in host).
 */
export function routeRequest(routes: readonly Route[], serve: (route: Route, params: Record<string, string>, request: PlainRequest) => Promise<PlainResponse>, log: Log) {
  return async (request: PlainRequest): Promise<PlainResponse> => {
    const match = matchRoute(routes, request.url);
    if (!match) return jsonResponse(404, { error: `no route for ${request.method} ${request.url.split('?')[0]}` });
    const { route, rawParams } = match;
    return respondRoute(route, request, () => serve(route, decodeParams(rawParams), request), log);
  };
}

/** Every route of a built app, for the local runner and in-process tests. */
export function appRouter(app: App, log: Log): Handler {
  return routeRequest(ROUTES, (route, params, request) => route.handle(app, request, params, log), log);
}

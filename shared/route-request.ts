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

/** A route template split once: each segment a lower-cased literal or a parameter name. */
interface Template {
  route: Route;
  segments: { literal: string | undefined; param: string | undefined }[];
  literals: number;
}

const templates = new WeakMap<readonly Route[], Template[]>();

function templatesOf(routes: readonly Route[]): Template[] {
  let compiled = templates.get(routes);
  if (!compiled) {
    compiled = routes.map((route) => {
      const segments = route.path.split('/').map((part) => {
        const param = /^\{(\w+)\}$/.exec(part)?.[1];
        return { literal: param === undefined ? part.toLowerCase() : undefined, param };
      });
      return { route, segments, literals: segments.filter((s) => s.literal !== undefined).length };
    });
    templates.set(routes, compiled);
  }
  return compiled;
}

/**
 * Finds the route of a URL as the Functions host does (ASP.NET Core routing): literal segments match
 * case-insensitively, `{name}` matches one non-empty segment (percent-decoded), a trailing slash is
 * ignored, and a literal segment wins over a parameter.
 */
export function matchRoute(routes: readonly Route[], url: string): RouteMatch | undefined {
  const query = url.indexOf('?');
  const path = (query === -1 ? url : url.slice(0, query)).replace(/\/+$/, '');
  const lower = path.toLowerCase();
  if (lower !== ROUTE_PREFIX && !lower.startsWith(`${ROUTE_PREFIX}/`)) return undefined;
  const segments = path.slice(ROUTE_PREFIX.length + 1).split('/');
  // Literals are compared lower-cased: the path is lower-cased once, not per route.
  const lowerSegments = lower.slice(ROUTE_PREFIX.length + 1).split('/');
  let best: Template | undefined;
  for (const template of templatesOf(routes)) {
    if (template.segments.length !== segments.length || (best && best.literals >= template.literals)) continue;
    if (template.segments.every(({ literal }, i) => (literal === undefined ? segments[i] !== '' : literal === lowerSegments[i]))) best = template;
  }
  if (!best) return undefined;
  const rawParams: Record<string, string> = {};
  best.segments.forEach(({ param }, i) => {
    if (param !== undefined) rawParams[param] = segments[i]!;
  });
  return { route: best.route, rawParams };
}

/** Path parameters decoded as the host hands them over; a malformed percent-encoding is the client's fault. */
export function decodeParams(rawParams: Record<string, string>): Record<string, string> {
  const params: Record<string, string> = {};
  try {
    for (const name in rawParams) params[name] = decodeURIComponent(rawParams[name]!);
    return params;
  } catch {
    throw new Refusal(400, 'malformed percent-encoding in the URL path');
  }
}

/**
 * The local runner's router: the same table and the same answers as under the host. `serve` runs the
 * matched route (the local runner's app, or the start-up state under a stand-in host).
 */
export function routeRequest(routes: readonly Route[], serve: (route: Route, params: Record<string, string>, request: PlainRequest) => Promise<PlainResponse>, log: Log) {
  return (request: PlainRequest): Promise<PlainResponse> => {
    const match = matchRoute(routes, request.url);
    if (!match) return Promise.resolve(jsonResponse(404, { error: `no route for ${request.method} ${request.url.split('?')[0]}` }));
    const { route, rawParams } = match;
    return respondRoute(route, request, () => serve(route, decodeParams(rawParams), request), log);
  };
}

/** Every route of a built app, for the local runner and in-process tests. */
export function appRouter(app: App, log: Log): Handler {
  return routeRequest(ROUTES, (route, params, request) => route.handle(app, request, params, log), log);
}

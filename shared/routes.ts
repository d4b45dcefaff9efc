import type { App } from './app.js';
import type { PlainRequest, PlainResponse } from './http.js';
import type { Log } from './log.js';

/*
 * Every HTTP route, once. The Functions bindings (functions/http.ts) register each entry with the host
 * and the local runner (route-request.ts) matches URLs against the same entries, so the two cannot
 * drift. Adding a route is adding an entry here (and the App member it calls).
 */

export type AuthLevel = 'anonymous' | 'function' | 'admin';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** Bound for every route, so that a wrong method gets our 405 with `Allow` instead of the host's bare 404. */
export const BOUND_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

export interface Route {
  /** Function name under the host (unique). */
  name: string;
  /** Route template below host.json's routePrefix (`api`), in the host's syntax: `{name}` is one path segment. */
  path: string;
  /** Methods the route serves; others are answered 405 with `Allow`. */
  methods: readonly HttpMethod[];
  /** Under the host: `admin` needs the master key, `function` a function key. The local runner checks no keys. */
  authLevel: AuthLevel;
  /** How refusals are written: OTLP `google.rpc.Status` in the caller's encoding, or `{"error": ...}`. */
  errors: 'otlp' | 'json';
  /** `log` carries the invocation id under the host. */
  handle(app: App, request: PlainRequest, params: Readonly<Record<string, string>>, log: Log): Promise<PlainResponse>;
}

export const ROUTE_PREFIX = '/api';

export const ROUTES: readonly Route[] = [
  { name: 'otel', path: 'otel/v1/{signal}', methods: ['POST'], authLevel: 'anonymous', errors: 'otlp', handle: (app, request, p, log) => app.exportSignal(p.signal!, request, log) },
  { name: 'config', path: 'config/{agent}', methods: ['GET'], authLevel: 'anonymous', errors: 'json', handle: (app, request, p) => app.config(p.agent!, request) },
  { name: 'credential', path: 'credential', methods: ['POST'], authLevel: 'anonymous', errors: 'json', handle: (app, request) => app.credential(request) },
  { name: 'usageRollup', path: 'usage/rollup', methods: ['POST'], authLevel: 'admin', errors: 'json', handle: (app, request) => app.usage(request) },
  { name: 'usageRead', path: 'usage', methods: ['GET'], authLevel: 'anonymous', errors: 'json', handle: (app, request) => app.usageRead(request) },
  { name: 'dashboard', path: 'dashboard', methods: ['GET'], authLevel: 'anonymous', errors: 'json', handle: (app, request) => app.dashboard(request) },
  { name: 'health', path: 'health', methods: ['GET'], authLevel: 'anonymous', errors: 'json', handle: (app, request) => app.health(request) },
  { name: 'localSql', path: 'local/sql', methods: ['POST'], authLevel: 'admin', errors: 'json', handle: (app, request) => app.localSql(request) },
  { name: 'metrics', path: 'metrics', methods: ['GET'], authLevel: 'admin', errors: 'json', handle: (app, request) => app.metrics(request) },
];

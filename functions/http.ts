import { app } from '@azure/functions';
import { serveHttp } from '../shared/functions-host.js';
import { BOUND_METHODS, ROUTES } from '../shared/routes.js';

// Request bodies as streams: the relay reads an export's body only after checking its credential, and
// stops at the size limit instead of the host buffering whatever arrives.
app.setup({ enableHttpStream: true });

// Every HTTP route from the one route table (shared/routes.ts); the local runner reads the same table.
for (const route of ROUTES) {
  app.http(route.name, { route: route.path, methods: [...BOUND_METHODS], authLevel: route.authLevel, handler: (request, context) => serveHttp(route, request, context) });
}

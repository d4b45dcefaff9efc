import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { AppHost } from './app-host.js';
import { fromFunctionsRequest, toFunctionsResponse } from './functions-adapter.js';
import { Refusal } from './http.js';
import { consoleSink, jsonLog, type Log, type LogSink } from './log.js';
import { refusalResponse, respondRoute } from './respond-route.js';
import type { Route } from './routes.js';

/*
 * The app under the Functions host: one per worker process, built by the appStart hook and closed by
 * appTerminate (functions/lifecycle.ts); the bindings (functions/http.ts) serve every route of the
 * table through `serveHttp`, which never throws to the host.
 */

const processLog = jsonLog(consoleSink);
// The app's modules load with the first build (appStart), not with the entry files: the host loads
// those before anything else, and they only register routes.
const host = new AppHost({ build: async () => (await import('./app.js')).createApp(process.env, processLog), log: processLog });

export const startApp = () => host.start();
export const stopApp = () => host.stop();

/** The invocation's own log methods, so the lines are tied to it in Application Insights. */
function invocationLog(context: InvocationContext): Log {
  const sink: LogSink = (level, line) => (level === 'error' ? context.error(line) : level === 'warn' ? context.warn(line) : context.log(line));
  return jsonLog(sink, { invocationId: context.invocationId });
}

export async function serveHttp(route: Route, request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const log = invocationLog(context);
  // The body is read by the route, if it wants it; a body that cannot be read is a 400 Refusal there.
  const plain = fromFunctionsRequest(request);
  const app = await host.current();
  if (app instanceof Refusal) return toFunctionsResponse(refusalResponse(route, plain, app));
  return toFunctionsResponse(await respondRoute(route, plain, () => route.handle(app, plain, request.params, log), log));
}

/** For timers: the app, or an error naming why it is not there (the host logs the failed run). */
export async function startedApp() {
  const app = await host.current();
  if (app instanceof Refusal) throw new Error(app.message);
  return app;
}

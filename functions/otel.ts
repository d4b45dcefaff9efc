import { app, type HttpRequest } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { fromFunctionsRequest, toFunctionsResponse } from '../shared/functions-adapter.js';

// Request bodies as streams: the relay reads an export's body only after checking its credential, and
// stops at the size limit instead of the host buffering whatever arrives.
app.setup({ enableHttpStream: true });

export async function otel(request: HttpRequest) {
  return toFunctionsResponse(await (await getApp()).exportSignal(request.params.signal ?? '', fromFunctionsRequest(request)));
}

// Every method is bound so that the relay, not the host, answers 405 in OTLP form.
app.http('otel', { route: 'otel/v1/{signal}', methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'], authLevel: 'anonymous', handler: otel });

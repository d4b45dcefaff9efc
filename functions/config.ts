import { app, type HttpRequest } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { fromFunctionsRequest, toFunctionsResponse } from '../shared/functions-adapter.js';

export async function config(request: HttpRequest) {
  return toFunctionsResponse(await (await getApp()).config(request.params.agent ?? '', await fromFunctionsRequest(request)));
}

app.http('config', { route: 'config/{agent}', methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], authLevel: 'anonymous', handler: config });

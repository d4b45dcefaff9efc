import { app, type HttpRequest } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { fromFunctionsRequest, toFunctionsResponse } from '../shared/functions-adapter.js';

export async function credential(request: HttpRequest) {
  return toFunctionsResponse(await (await getApp()).credential(await fromFunctionsRequest(request)));
}

app.http('credential', { route: 'credential', methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], authLevel: 'anonymous', handler: credential });

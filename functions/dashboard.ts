import { app, type HttpRequest } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { fromFunctionsRequest, toFunctionsResponse } from '../shared/functions-adapter.js';

export async function dashboard(request: HttpRequest) {
  return toFunctionsResponse(await (await getApp()).dashboard(await fromFunctionsRequest(request)));
}

app.http('dashboard', { route: 'dashboard', methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], authLevel: 'anonymous', handler: dashboard });

import { app, type HttpRequest } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { fromFunctionsRequest, toFunctionsResponse } from '../shared/functions-adapter.js';

export async function health(request: HttpRequest) {
  return toFunctionsResponse(await (await getApp()).health(await fromFunctionsRequest(request)));
}

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: health });

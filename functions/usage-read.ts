import { app, type HttpRequest } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { fromFunctionsRequest, toFunctionsResponse } from '../shared/functions-adapter.js';

export async function usageRead(request: HttpRequest) {
  return toFunctionsResponse(await (await getApp()).usageRead(await fromFunctionsRequest(request)));
}

// The caller signs in (Entra or App Service Authentication): the handler decides whose rows they see.
app.http('usageRead', { route: 'usage', methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], authLevel: 'anonymous', handler: usageRead });

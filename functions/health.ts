import { app, type HttpRequest } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { fromFunctionsRequest, toFunctionsResponse } from '../shared/functions-adapter.js';

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async (request: HttpRequest) => toFunctionsResponse(await (await getApp()).health(await fromFunctionsRequest(request))),
});

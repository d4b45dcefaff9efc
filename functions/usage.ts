import { app, type HttpRequest } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { fromFunctionsRequest, toFunctionsResponse } from '../shared/functions-adapter.js';

// On-demand roll-up for a date range; 'admin' makes the host require the master key.
app.http('usageRollup', {
  route: 'usage/rollup',
  methods: ['POST'],
  authLevel: 'admin',
  handler: async (request: HttpRequest) => toFunctionsResponse(await (await getApp()).usage(await fromFunctionsRequest(request))),
});

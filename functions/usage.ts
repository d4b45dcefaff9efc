import { app, type HttpRequest } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { fromFunctionsRequest, toFunctionsResponse } from '../shared/functions-adapter.js';

export async function usageRollup(request: HttpRequest) {
  return toFunctionsResponse(await (await getApp()).usage(await fromFunctionsRequest(request)));
}

// On-demand roll-up for a date range; 'admin' makes the host require the master key.
app.http('usageRollup', { route: 'usage/rollup', methods: ['POST'], authLevel: 'admin', handler: usageRollup });

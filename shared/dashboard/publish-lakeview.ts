import type { TokenProvider } from '../databricks-token.js';

export interface PublishOptions {
  /** Workspace URL, e.g. https://adb-123.4.azuredatabricks.net */
  host: string;
  tokens: Pick<TokenProvider, 'token'>;
  warehouseId: string;
  /** Workspace folder of the dashboard, e.g. /Shared/coding-agent-relay (created when missing). */
  folder: string;
  displayName: string;
  serializedDashboard: string;
  /** Viewers query with the publisher's credentials (true) or their own (false: they need SELECT on the table). */
  embedCredentials: boolean;
}

export class DatabricksApiError extends Error {}

/**
 * Creates or updates the dashboard through the Lakeview REST API, then publishes it:
 *   POST /api/2.0/workspace/mkdirs                        the folder (no-op when it exists)
 *   GET  /api/2.0/workspace/get-status?path=<file>        finds a dashboard of that name (resource_id)
 *   PATCH /api/2.0/lakeview/dashboards/{id}               updates it, or
 *   POST /api/2.0/lakeview/dashboards                     creates it (display_name, parent_path, warehouse_id, serialized_dashboard)
 *   POST /api/2.0/lakeview/dashboards/{id}/published      publishes the draft
 * https://docs.databricks.com/api/workspace/lakeview
 */
export async function publishLakeview(options: PublishOptions): Promise<{ dashboardId: string; created: boolean; url: string }> {
  const call = async (method: string, path: string, body?: object, allow404 = false): Promise<Record<string, unknown> | undefined> => {
    const response = await fetch(`${options.host}${path}`, {
      method,
      headers: { authorization: `Bearer ${await options.tokens.token()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (allow404 && response.status === 404) return undefined;
    if (!response.ok) {
      const detail = (() => {
        try {
          const parsed = JSON.parse(text) as { error_code?: string; message?: string };
          return [parsed.error_code, parsed.message].filter(Boolean).join(': ');
        } catch {
          return text.slice(0, 200);
        }
      })();
      throw new DatabricksApiError(`${method} ${path.split('?')[0]} answered ${response.status}${detail ? ` (${detail})` : ''}`);
    }
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };

  await call('POST', '/api/2.0/workspace/mkdirs', { path: options.folder });
  const file = `${options.folder}/${options.displayName}.lvdash.json`;
  const existing = await call('GET', `/api/2.0/workspace/get-status?path=${encodeURIComponent(file)}`, undefined, true);
  if (existing && existing.object_type !== 'DASHBOARD') throw new DatabricksApiError(`${file} exists and is a ${String(existing.object_type)}, not a dashboard`);
  const draft = { display_name: options.displayName, warehouse_id: options.warehouseId, serialized_dashboard: options.serializedDashboard };
  let dashboardId: string;
  if (existing) {
    dashboardId = String(existing.resource_id);
    await call('PATCH', `/api/2.0/lakeview/dashboards/${encodeURIComponent(dashboardId)}`, draft);
  } else {
    const created = await call('POST', '/api/2.0/lakeview/dashboards', { ...draft, parent_path: options.folder });
    dashboardId = String(created!.dashboard_id);
  }
  await call('POST', `/api/2.0/lakeview/dashboards/${encodeURIComponent(dashboardId)}/published`, { warehouse_id: options.warehouseId, embed_credentials: options.embedCredentials });
  return { dashboardId, created: !existing, url: `${options.host}/dashboardsv3/${dashboardId}/published` };
}

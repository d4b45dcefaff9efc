import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lakeviewDashboard, lakeviewTemplate, LAKEVIEW_TEMPLATE, type LakeviewDashboard } from '../../shared/dashboard/lakeview-dashboard.js';
import { publishLakeview } from '../../shared/dashboard/publish-lakeview.js';
import { USAGE_MEASURES } from '../../shared/usage/usage-columns.js';
import { fakeServer, type FakeServer, type RecordedRequest } from '../fakes/http-server.js';
import { sparkSyntaxErrors } from '../spark-sql.js';

const ROOT = join(import.meta.dirname, '..', '..');
const names = { catalog: 'prod_cat', schema: 'agents_schema', prefix: 'acme' };
const TABLE = 'prod_cat.agents_schema.acme_usage_daily';
const TOKEN = 'dapi-test-token-0123456789';
const sqlOf = (dataset: LakeviewDashboard['datasets'][number]) => dataset.queryLines.join('');

describe('the Databricks dashboard definition', () => {
  it('is what the code writes (npm run dashboard -- --write-template)', () => {
    expect(JSON.parse(readFileSync(join(ROOT, LAKEVIEW_TEMPLATE), 'utf8'))).toEqual(lakeviewTemplate());
  });

  it('reads the configured table in every dataset, as Spark SQL, with every measure', () => {
    const dashboard = lakeviewDashboard(names);
    expect(dashboard.datasets.length).toBeGreaterThan(0);
    for (const dataset of dashboard.datasets) {
      const sql = sqlOf(dataset);
      expect(sql).toContain(`FROM ${TABLE}`);
      expect(sql).not.toContain('{');
      expect(sparkSyntaxErrors(sql)).toEqual([]);
      for (const m of USAGE_MEASURES) expect(sql).toMatch(new RegExp(`\\b${m.name}\\b`));
    }
  });

  it("uses only columns its widgets' dataset selects", () => {
    const dashboard = lakeviewDashboard(names);
    const selected = new Set(['usage_date', 'agent', 'user_id', 'user_email', 'model', ...USAGE_MEASURES.map((m) => m.name), 'associative_filter_predicate_group']);
    const widgets = dashboard.pages.flatMap((p) => p.layout.map((l) => l.widget));
    expect(widgets.map((w) => w.name)).toEqual(expect.arrayContaining(['filter_dates', 'filter_agent', 'filter_model', 'filter_user', 'tokens_per_day', 'cost_per_day', 'tokens_by_model', 'top_users']));
    for (const w of widgets) {
      for (const q of w.queries) {
        expect(dashboard.datasets.map((d) => d.name)).toContain(q.query.datasetName);
        for (const f of q.query.fields) for (const [, used] of f.expression.matchAll(/`(\w+)`/g)) expect(selected, `${w.name}: ${used}`).toContain(used);
      }
    }
  });
});

/** A loopback Databricks workspace that keeps dashboards by path and refuses what the real API would. */
function lakeviewFake() {
  const byPath = new Map<string, string>();
  const drafts = new Map<string, Record<string, unknown>>();
  const published = new Set<string>();
  const problems: string[] = [];
  const answer = (res: import('node:http').ServerResponse, status: number, body: object) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const checkDraft = (body: Record<string, unknown>) => {
    if (body.warehouse_id !== 'abc123def') problems.push(`warehouse_id ${String(body.warehouse_id)}`);
    const dashboard = JSON.parse(String(body.serialized_dashboard)) as LakeviewDashboard;
    for (const d of dashboard.datasets) {
      if (!sqlOf(d).includes(TABLE)) problems.push(`dataset ${d.name} does not read ${TABLE}`);
      if (sparkSyntaxErrors(sqlOf(d)).length > 0) problems.push(`dataset ${d.name} is not Spark SQL`);
    }
  };
  const reply = (req: RecordedRequest, res: import('node:http').ServerResponse) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return answer(res, 401, { error_code: 'UNAUTHENTICATED', message: 'bad token' });
    const url = new URL(req.url, 'http://x');
    const body = req.body.length ? (JSON.parse(req.body.toString()) as Record<string, unknown>) : {};
    if (req.body.length && req.headers['content-type'] !== 'application/json') problems.push(`${req.method} ${url.pathname} without JSON content type`);
    if (req.method === 'POST' && url.pathname === '/api/2.0/workspace/mkdirs') return answer(res, 200, {});
    if (req.method === 'GET' && url.pathname === '/api/2.0/workspace/get-status') {
      const id = byPath.get(url.searchParams.get('path')!);
      return id ? answer(res, 200, { object_type: 'DASHBOARD', path: url.searchParams.get('path'), resource_id: id }) : answer(res, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such path' });
    }
    if (req.method === 'POST' && url.pathname === '/api/2.0/lakeview/dashboards') {
      checkDraft(body);
      const id = `01ef${byPath.size}aaaa`;
      byPath.set(`${String(body.parent_path)}/${String(body.display_name)}.lvdash.json`, id);
      drafts.set(id, body);
      return answer(res, 200, { dashboard_id: id, display_name: body.display_name, path: `${String(body.parent_path)}/${String(body.display_name)}.lvdash.json` });
    }
    const patch = /^\/api\/2\.0\/lakeview\/dashboards\/(\w+)$/.exec(url.pathname);
    if (req.method === 'PATCH' && patch && drafts.has(patch[1]!)) {
      checkDraft(body);
      drafts.set(patch[1]!, { ...drafts.get(patch[1]!), ...body });
      return answer(res, 200, { dashboard_id: patch[1] });
    }
    const publish = /^\/api\/2\.0\/lakeview\/dashboards\/(\w+)\/published$/.exec(url.pathname);
    if (req.method === 'POST' && publish && drafts.has(publish[1]!)) {
      if (body.warehouse_id !== 'abc123def' || body.embed_credentials !== false) problems.push(`publish body ${JSON.stringify(body)}`);
      published.add(publish[1]!);
      return answer(res, 200, { display_name: 'x', warehouse_id: body.warehouse_id });
    }
    return answer(res, 404, { error_code: 'ENDPOINT_NOT_FOUND', message: `${req.method} ${url.pathname}` });
  };
  return { byPath, drafts, published, problems, reply };
}

describe('publishLakeview against a loopback workspace', () => {
  let fake: ReturnType<typeof lakeviewFake>;
  let server: FakeServer;
  beforeEach(async () => {
    fake = lakeviewFake();
    server = await fakeServer(fake.reply);
  });
  afterEach(() => server.close());

  const options = () => ({
    host: server.url,
    tokens: { token: async () => TOKEN },
    warehouseId: 'abc123def',
    folder: '/Shared/coding-agent-relay',
    displayName: 'Coding agent usage',
    serializedDashboard: JSON.stringify(lakeviewDashboard(names)),
    embedCredentials: false,
  });

  it('creates, publishes, then updates the same dashboard on the next run', async () => {
    const first = await publishLakeview(options());
    expect(first).toEqual({ dashboardId: '01ef0aaaa', created: true, url: `${server.url}/dashboardsv3/01ef0aaaa/published` });
    expect(server.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
      'POST /api/2.0/workspace/mkdirs',
      'GET /api/2.0/workspace/get-status',
      'POST /api/2.0/lakeview/dashboards',
      'POST /api/2.0/lakeview/dashboards/01ef0aaaa/published',
    ]);
    expect(fake.drafts.get('01ef0aaaa')).toMatchObject({ display_name: 'Coding agent usage', parent_path: '/Shared/coding-agent-relay', warehouse_id: 'abc123def' });
    const second = await publishLakeview(options());
    expect(second).toMatchObject({ dashboardId: '01ef0aaaa', created: false });
    expect(server.requests.slice(4).map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
      'POST /api/2.0/workspace/mkdirs',
      'GET /api/2.0/workspace/get-status',
      'PATCH /api/2.0/lakeview/dashboards/01ef0aaaa',
      'POST /api/2.0/lakeview/dashboards/01ef0aaaa/published',
    ]);
    expect(new URL(server.requests[1]!.url, 'http://x').searchParams.get('path')).toBe('/Shared/coding-agent-relay/Coding agent usage.lvdash.json');
    expect(fake.published).toEqual(new Set(['01ef0aaaa']));
    expect(fake.problems).toEqual([]);
  });

  it('reports the API error and never the token', async () => {
    const error = (await publishLakeview({ ...options(), tokens: { token: async () => 'wrong-token' } }).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('POST /api/2.0/workspace/mkdirs answered 401 (UNAUTHENTICATED: bad token)');
    expect(error.message).not.toContain('wrong-token');
  });

  it('publishes through npm run dashboard -- --publish with the app settings', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'shared/cli/dashboard.ts', '--publish'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        DATABRICKS_HOST: server.url,
        DATABRICKS_TOKEN: TOKEN,
        UC_CATALOG: names.catalog,
        UC_SCHEMA: names.schema,
        UC_TABLE_PREFIX: names.prefix,
        DATABRICKS_WAREHOUSE_HTTP_PATH: '/sql/1.0/warehouses/abc123def',
        RELAY_SIGNING_KEY: 'unused-in-this-command-0123456789abcdef',
      },
    });
    expect(stdout.trim()).toBe(`created and published dashboard 01ef0aaaa: ${server.url}/dashboardsv3/01ef0aaaa/published`);
    expect(fake.problems).toEqual([]);
  });
});

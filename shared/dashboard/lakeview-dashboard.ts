import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fillSql, projectRoot, type TableNames } from '../sql/ddl.js';
import { USAGE_MEASURES } from '../usage/usage-columns.js';

/*
 * The Databricks AI/BI (Lakeview) dashboard over the daily usage table: the same views as the app's
 * page (totals, tokens per day by agent, cost per day by agent, tokens by model, top users) with a
 * date range and agent, model and user filters. Its one dataset reads the table named by
 * `{catalog}.{schema}.{prefix}_usage_daily`, filled in from the settings when published.
 * infra/dashboards/coding-agents.lvdash.json is this definition as written by `lakeviewTemplate()`.
 */

export const LAKEVIEW_TEMPLATE = join('infra', 'dashboards', 'coding-agents.lvdash.json');
const DATASET = 'usage_daily';

interface Field {
  name: string;
  expression: string;
}

const column = (name: string): Field => ({ name, expression: `\`${name}\`` });
const sum = (name: string): Field => ({ name: `sum(${name})`, expression: `SUM(\`${name}\`)` });
const label = (name: string) => USAGE_MEASURES.find((m) => m.name === name)!.label;

function query(name: string, fields: Field[]) {
  return [{ name, query: { datasetName: DATASET, fields, disaggregated: false } }];
}

function widget(name: string, position: [number, number, number, number], queries: ReturnType<typeof query>, spec: object) {
  const [x, y, width, height] = position;
  return { widget: { name, queries, spec }, position: { x, y, width, height } };
}

function filter(name: string, field: string, title: string, widgetType: string, position: [number, number, number, number]) {
  const queryName = `${name}_values`;
  // The associativity field lets each filter offer only values the other filters leave.
  return widget(name, position, query(queryName, [column(field), { name: `${field}_associativity`, expression: 'COUNT_IF(`associative_filter_predicate_group`)' }]), {
    version: 2,
    widgetType,
    encodings: { fields: [{ fieldName: field, displayName: title, queryName }] },
    frame: { showTitle: true, title },
  });
}

function counter(measure: string, x: number) {
  const field = sum(measure);
  return widget(`total_${measure}`, [x, 2, 1, 2], query('main_query', [field]), {
    version: 2,
    widgetType: 'counter',
    encodings: { value: { fieldName: field.name, displayName: label(measure) } },
    frame: { showTitle: true, title: label(measure) },
  });
}

function perDayByAgent(name: string, measure: string, widgetType: 'bar' | 'line', title: string, position: [number, number, number, number]) {
  const value = sum(measure);
  return widget(name, position, query('main_query', [column('usage_date'), column('agent'), value]), {
    version: 3,
    widgetType,
    encodings: {
      x: { fieldName: 'usage_date', scale: { type: 'temporal' }, displayName: 'Day' },
      y: { fieldName: value.name, scale: { type: 'quantitative' }, displayName: label(measure) },
      color: { fieldName: 'agent', scale: { type: 'categorical' }, displayName: 'Agent' },
    },
    frame: { showTitle: true, title },
  });
}

const USER_COLUMNS = ['tokens', 'cost_usd', 'sessions', 'active_seconds', 'lines_added', 'lines_removed', 'commits', 'pull_requests'];

/** The dashboard with the table name left as `{catalog}.{schema}.{prefix}_usage_daily`. */
export function lakeviewTemplate() {
  const measures = USAGE_MEASURES.map((m) => (m.sql === m.name ? `  ${m.name},` : `  ${m.sql} AS ${m.name},`));
  measures[measures.length - 1] = measures.at(-1)!.replace(/,$/, '');
  const tokens = sum('tokens');
  return {
    datasets: [
      {
        name: DATASET,
        displayName: 'Daily usage',
        queryLines: ['SELECT\n', '  usage_date, agent, user_id, user_email, model,\n', ...measures.map((line) => `${line}\n`), 'FROM {catalog}.{schema}.{prefix}_usage_daily\n'],
      },
    ],
    pages: [
      {
        name: 'usage',
        displayName: 'Coding agent usage',
        pageType: 'PAGE_TYPE_CANVAS',
        layout: [
          filter('filter_dates', 'usage_date', 'Date range', 'filter-date-range-picker', [0, 0, 2, 2]),
          filter('filter_agent', 'agent', 'Agent', 'filter-multi-select', [2, 0, 1, 2]),
          filter('filter_model', 'model', 'Model', 'filter-multi-select', [3, 0, 1, 2]),
          filter('filter_user', 'user_email', 'User', 'filter-multi-select', [4, 0, 2, 2]),
          ...['tokens', 'cost_usd', 'sessions', 'requests', 'active_seconds', 'commits'].map((m, i) => counter(m, i)),
          perDayByAgent('tokens_per_day', 'tokens', 'bar', 'Tokens per day, by agent', [0, 4, 3, 6]),
          perDayByAgent('cost_per_day', 'cost_usd', 'line', 'Cost per day (USD), by agent', [3, 4, 3, 6]),
          widget('tokens_by_model', [0, 10, 2, 6], query('main_query', [column('model'), tokens]), {
            version: 3,
            widgetType: 'bar',
            encodings: {
              x: { fieldName: tokens.name, scale: { type: 'quantitative' }, displayName: label('tokens') },
              y: { fieldName: 'model', scale: { type: 'categorical', sort: { by: 'x-reversed' } }, displayName: 'Model' },
            },
            frame: { showTitle: true, title: 'Tokens by model' },
          }),
          widget('top_users', [2, 10, 4, 6], query('main_query', [column('user_email'), ...USER_COLUMNS.map(sum)]), {
            version: 1,
            widgetType: 'table',
            encodings: {
              columns: [{ fieldName: 'user_email', displayName: 'User' }, ...USER_COLUMNS.map((m) => ({ fieldName: `sum(${m})`, displayName: label(m) }))],
            },
            frame: { showTitle: true, title: 'Top users' },
          }),
        ],
      },
    ],
  };
}

export type LakeviewDashboard = ReturnType<typeof lakeviewTemplate>;

/** The committed definition (infra/dashboards/coding-agents.lvdash.json) with the configured table filled in. */
export function lakeviewDashboard(names: TableNames, template: LakeviewDashboard = JSON.parse(readFileSync(join(projectRoot(), LAKEVIEW_TEMPLATE), 'utf8'))): LakeviewDashboard {
  return { ...template, datasets: template.datasets.map((d) => ({ ...d, queryLines: d.queryLines.map((line) => fillSql(line, names) + (line.endsWith('\n') ? '\n' : '')) })) };
}

import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration } from 'chart.js';
import { USAGE_MEASURES, type UsageMeasure } from '../../usage/usage-columns.js';

/*
 * The usage dashboard: reads GET /api/usage (relative to this page, so it works under any host and
 * prefix) with the browser's own sign-in, and draws it. Bundled with Chart.js into the page at build
 * time (shared/dashboard/build-page.ts): no request leaves for anywhere but this app.
 */

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip);

type Row = Record<string, string | number | null>;
interface Report {
  from: string;
  to: string;
  scope: 'all' | 'own';
  rows: Row[];
  totals: Record<string, number | null>;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('filters');
const FILTERS = ['agent', 'model', 'user'] as const;
const measure = (name: string) => USAGE_MEASURES.find((m) => m.name === name)!;

/** Headline totals, and the top-users columns: tokens, cost, sessions, active time, lines, commits, PRs. */
const TILES = ['tokens', 'cost_usd', 'sessions', 'requests', 'active_seconds', 'lines_added', 'commits', 'pull_requests'].map(measure);
const USER_COLUMNS = ['tokens', 'cost_usd', 'sessions', 'active_seconds', 'lines_added', 'lines_removed', 'commits', 'pull_requests'].map(measure);
const PALETTE = ['#1f5fbf', '#e07b00', '#2a9d55', '#b23a8f', '#6b5bd2', '#7a8793', '#c9a400', '#1aa3b8'];

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
function format(m: UsageMeasure, value: number | null): string {
  if (value === null) return '–';
  if (m.unit === 'usd') return `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: value < 1 ? 4 : 2 })}`;
  if (m.unit === 'seconds') {
    if (value < 60) return `${value.toLocaleString('en-US', { maximumFractionDigits: 1 })} s`;
    const minutes = Math.round(value / 60);
    return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
  }
  return integer.format(value);
}

const iso = (d: Date) => d.toISOString().slice(0, 10);

/** The form starts from the page's own query string (a shareable link), else the last 30 days. */
function initialise(): void {
  const params = new URLSearchParams(location.search);
  const today = new Date();
  $<HTMLInputElement>('to').value = params.get('to') ?? iso(today);
  $<HTMLInputElement>('from').value = params.get('from') ?? iso(new Date(today.getTime() - 29 * 86_400_000));
  for (const name of FILTERS) {
    const value = params.get(name);
    if (!value) continue;
    const field = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement;
    if (field instanceof HTMLSelectElement) addOption(field, value);
    field.value = value;
  }
}

function addOption(select: HTMLSelectElement, value: string): void {
  if ([...select.options].some((o) => o.value === value)) return;
  select.add(new Option(value === '' ? '(no model)' : value, value));
}

/** The form's values as API parameters (empty filters left out). */
function selection(): URLSearchParams {
  const params = new URLSearchParams();
  params.set('from', $<HTMLInputElement>('from').value);
  params.set('to', $<HTMLInputElement>('to').value);
  for (const name of FILTERS) {
    const value = (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

class ApiError extends Error {}

async function usage(params: URLSearchParams, groupBy: string): Promise<Report> {
  const query = new URLSearchParams(params);
  query.set('group_by', groupBy);
  const response = await fetch(`usage?${query}`, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  const body = (await response.json().catch(() => ({}))) as Report & { error?: string };
  if (!response.ok) {
    const retry = response.headers.get('retry-after');
    throw new ApiError(`${body.error ?? `the usage API answered ${response.status}`}${retry ? ` (try again in ${retry} s)` : ''}`);
  }
  return body;
}

const charts = new Map<string, Chart>();

function draw(id: string, config: ChartConfiguration, summary: string): void {
  charts.get(id)?.destroy();
  // No animation: the chart is complete the moment it is drawn (screenshots, tests, reduced motion).
  config.options = { ...config.options, animation: false, responsive: true, maintainAspectRatio: false };
  charts.set(id, new Chart($<HTMLCanvasElement>(id), config));
  $(`${id}-summary`).textContent = summary;
}

/** Day x agent rows as one dataset per agent over every day of the range. */
function perDayByAgent(rows: Row[], from: string, to: string, measureName: string) {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) days.push(iso(new Date(t)));
  const agents = [...new Set(rows.map((r) => String(r.agent)))].sort();
  const datasets = agents.map((agent, i) => {
    const byDay = new Map(rows.filter((r) => r.agent === agent).map((r) => [r.day, (r[measureName] as number | null) ?? 0]));
    return { label: agent, data: days.map((d) => byDay.get(d) ?? 0), backgroundColor: PALETTE[i % PALETTE.length], borderColor: PALETTE[i % PALETTE.length] };
  });
  return { labels: days, datasets };
}

function describe(datasets: { label: string; data: number[] }[], m: UsageMeasure): string {
  return datasets.map((d) => `${d.label}: ${format(m, d.data.reduce((a, b) => a + b, 0))}`).join('; ');
}

function renderTotals(totals: Report['totals']): void {
  const list = $('totals');
  list.replaceChildren(
    ...TILES.map((m) => {
      const tile = document.createElement('div');
      const dt = document.createElement('dt');
      dt.textContent = m.label;
      const dd = document.createElement('dd');
      dd.dataset.measure = m.name;
      dd.dataset.value = String(totals[m.name] ?? '');
      dd.textContent = format(m, totals[m.name] ?? null);
      tile.append(dt, dd);
      return tile;
    }),
  );
}

let userRows: Row[] = [];
let sort: { column: string; descending: boolean } = { column: 'tokens', descending: true };

function renderUsersHead(): void {
  const row = document.querySelector('#users thead tr')!;
  const columns = [{ name: 'user_email', label: 'User' }, ...USER_COLUMNS];
  row.replaceChildren(
    ...columns.map((c) => {
      const th = document.createElement('th');
      th.scope = 'col';
      th.dataset.column = c.name;
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = c.label;
      button.addEventListener('click', () => {
        sort = { column: c.name, descending: sort.column === c.name ? !sort.descending : c.name !== 'user_email' };
        renderUsersBody();
      });
      th.append(button);
      return th;
    }),
  );
}

function renderUsersBody(): void {
  for (const th of document.querySelectorAll<HTMLElement>('#users th')) {
    if (th.dataset.column === sort.column) th.setAttribute('aria-sort', sort.descending ? 'descending' : 'ascending');
    else th.removeAttribute('aria-sort');
  }
  const key = (r: Row) => r[sort.column] ?? (sort.column === 'user_email' ? '' : -Infinity);
  const sorted = [...userRows].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return sort.descending ? -order : order;
  });
  $('users').querySelector('tbody')!.replaceChildren(
    ...sorted.map((r) => {
      const tr = document.createElement('tr');
      const who = document.createElement('td');
      who.textContent = String(r.user_email ?? r.user_id);
      who.title = String(r.user_id);
      tr.append(who, ...USER_COLUMNS.map((m) => Object.assign(document.createElement('td'), { textContent: format(m, r[m.name] as number | null) })));
      return tr;
    }),
  );
}

function fillOptions(select: HTMLSelectElement, values: string[]): void {
  const chosen = select.value;
  for (const option of [...select.options].slice(1)) option.remove();
  for (const value of [...new Set([...values, ...(chosen ? [chosen] : [])])].sort()) addOption(select, value);
  select.value = chosen;
}

async function load(): Promise<void> {
  const params = selection();
  history.replaceState(null, '', `?${params}`);
  const status = $('status');
  const error = $('error');
  status.textContent = 'Loading…';
  error.hidden = true;
  try {
    const unfiltered = new URLSearchParams(params);
    unfiltered.delete('agent');
    unfiltered.delete('model');
    const [byDay, byModel, byUser, choices] = await Promise.all([usage(params, 'day,agent'), usage(params, 'model'), usage(params, 'user'), usage(unfiltered, 'agent,model')]);
    fillOptions($<HTMLSelectElement>('agent'), choices.rows.map((r) => String(r.agent)));
    fillOptions($<HTMLSelectElement>('model'), choices.rows.map((r) => String(r.model)));
    $('scope').textContent = byDay.scope === 'all' ? 'Showing every user.' : 'Showing your own usage.';
    const empty = byDay.rows.length === 0;
    $('empty').hidden = !empty;
    $('content').hidden = empty;
    status.textContent = empty ? `No usage from ${byDay.from} to ${byDay.to}.` : `Usage from ${byDay.from} to ${byDay.to}.`;
    if (empty) return;
    renderTotals(byDay.totals);

    const tokens = perDayByAgent(byDay.rows, byDay.from, byDay.to, 'tokens');
    draw('tokens-by-day', { type: 'bar', data: tokens, options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } } }, describe(tokens.datasets, measure('tokens')));
    const cost = perDayByAgent(byDay.rows, byDay.from, byDay.to, 'cost_usd');
    draw('cost-by-day', { type: cost.labels.length > 1 ? 'line' : 'bar', data: cost, options: { scales: { y: { beginAtZero: true } } } }, describe(cost.datasets, measure('cost_usd')));
    const models = byModel.rows.filter((r) => Number(r.tokens) > 0).sort((a, b) => Number(b.tokens) - Number(a.tokens));
    const modelData = { labels: models.map((r) => (r.model === '' ? '(no model)' : String(r.model))), datasets: [{ label: 'Tokens', data: models.map((r) => Number(r.tokens ?? 0)), backgroundColor: PALETTE[0] }] };
    draw('tokens-by-model', { type: 'bar', data: modelData, options: { indexAxis: 'y', plugins: { legend: { display: false } } } }, modelData.labels.map((l, i) => `${l}: ${format(measure('tokens'), modelData.datasets[0]!.data[i]!)}`).join('; '));

    userRows = byUser.rows;
    renderUsersBody();
    $<HTMLDataListElement>('user-options').replaceChildren(...userRows.map((r) => new Option(String(r.user_id), String(r.user_email))));
    const csv = new URLSearchParams(params);
    csv.set('group_by', 'user');
    csv.set('format', 'csv');
    $<HTMLAnchorElement>('users-csv').href = `usage?${csv}`;
  } catch (err) {
    status.textContent = '';
    error.textContent = err instanceof ApiError ? err.message : `Could not load usage: ${(err as Error).message}`;
    error.hidden = false;
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void load();
});
initialise();
renderUsersHead();
void load();

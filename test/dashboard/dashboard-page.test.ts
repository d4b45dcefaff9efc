import { silentLog } from '../../shared/log.js';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../shared/app.js';
import { buildDashboardPage } from '../../shared/dashboard/build-page.js';
import { serve, type Served } from '../../shared/local/serve.js';
import { ALICE, bearerFor, TEST_SIGNING_KEY } from '../credentials.js';
import { fixtures } from '../fixtures.js';

/*
 * The dashboard in a real browser: Debian's Chromium (/usr/bin/chromium, installed by .ci/run) driven by
 * playwright-core, which never downloads a browser. The real agent fixtures go through the relay as
 * two users, the roll-up runs, and the page must show what GET /api/usage says.
 */

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'screenshots');
const BOB = { userId: '0b0b0b0b-0000-4000-8000-000000000b0b', email: 'bob@contoso.example' };
const DAY = '2026-11-22';
const quiet = silentLog;

// Outside CI a machine without Chromium skips (with this notice); CI installs it, so there it must run.
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) console.warn(`dashboard browser tests skipped: ${CHROMIUM} missing (apt-get install -y chromium)`);

describe.skipIf(!haveChromium && !process.env.CI)('the dashboard page in Chromium', () => {
  let app: App;
  let served: Served;
  let browser: Browser;
  let page: Page;

  const api = async (query: string) => (await (await fetch(`${served.url}/api/usage?${query}`)).json()) as { rows: Record<string, unknown>[]; totals: Record<string, number | null> };

  beforeAll(async () => {
    await buildDashboardPage();
    app = await createApp({ LOCAL_DUCKDB_PATH: ':memory:', RELAY_SIGNING_KEY: TEST_SIGNING_KEY }, quiet);
    for (const [user, files] of [[ALICE, fixtures()], [BOB, fixtures().filter((f) => f.agent === 'claude-code')]] as const) {
      for (const f of files) {
        const response = await app.handle({ method: 'POST', url: `/api/otel/v1/${f.signal}`, headers: { 'content-type': f.contentType, authorization: await bearerFor(f.agent, user) }, body: f.body });
        expect(response.status, f.file).toBe(200);
      }
    }
    await app.runUsage({ from: '2026-11-21', to: '2026-11-23' });
    served = await serve(app.handle, { host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (err) => {
      throw err;
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await app?.close();
  });

  async function open(query: string): Promise<void> {
    await page.goto(`${served.url}/api/dashboard?${query}`);
    // Functions, not strings: the page's Content-Security-Policy forbids eval.
    await page.waitForFunction(() => {
      const doc = (globalThis as any).document;
      return /^(Usage|No usage) from/.test(doc.getElementById('status').textContent) || !doc.getElementById('error').hidden;
    });
  }

  /** Pixels of a canvas near a colour (the first agent's and the model chart's bars are #1f5fbf). */
  const colouredPixels = (id: string) =>
    page.locator(`canvas#${id}`).evaluate((canvas: any) => {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height) as { data: Uint8ClampedArray };
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - 0x1f) < 8 && Math.abs(data[i + 1]! - 0x5f) < 8 && Math.abs(data[i + 2]! - 0xbf) < 8 && data[i + 3]! > 200) n++;
      return n;
    });

  it('shows the same totals as GET /api/usage, every chart drawn, and writes a screenshot', async () => {
    await open(`from=${DAY}&to=${DAY}`);
    expect(await page.locator('#error').isHidden()).toBe(true);
    const { totals } = await api(`from=${DAY}&to=${DAY}&group_by=day,agent`);
    expect(totals.tokens).toBe(668 + 168); // uncached input + output. Alice: Claude Code 168, Codex 180, Gemini CLI 320; Bob: Claude Code 168
    const shown = await page.locator('#totals dd').evaluateAll((dds) => dds.map((dd) => [dd.getAttribute('data-measure')!, dd.getAttribute('data-value')!]));
    expect(shown.length).toBe(8);
    for (const [name, value] of shown) expect(value, name).toBe(totals[name] === null ? '' : String(totals[name]));
    expect(await page.locator('#totals dd[data-measure=tokens]').textContent()).toBe('836');

    for (const id of ['tokens-by-day', 'cost-by-day', 'tokens-by-model']) expect(await colouredPixels(id), id).toBeGreaterThan(50);

    const users = await api(`from=${DAY}&to=${DAY}&group_by=user`);
    expect(await page.locator('#users tbody tr').count()).toBe(users.rows.length);
    expect(await page.locator('#users tbody tr td:first-child').allTextContents()).toEqual([ALICE.email, BOB.email]);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png'), fullPage: true });
    expect(existsSync(join(SCREENSHOTS, 'dashboard.png'))).toBe(true);
  });

  it('labels every control and works from the keyboard: filter, sort, CSV link', async () => {
    await open(`from=${DAY}&to=${DAY}`);
    for (const id of await page.locator('#filters input, #filters select').evaluateAll((els) => els.map((e) => e.id))) {
      expect(await page.locator(`label[for="${id}"]`).count(), id).toBe(1);
    }
    for (const canvas of await page.locator('canvas').all()) expect(await canvas.getAttribute('aria-labelledby')).toBeTruthy();

    // Filter to Codex with the keyboard only.
    const agent = page.getByLabel('Agent', { exact: true });
    await agent.focus();
    await agent.selectOption('codex');
    await page.getByRole('button', { name: 'Show' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/[?&]agent=codex(&|$)/);
    await expect.poll(() => page.locator('#totals dd[data-measure=tokens]').getAttribute('data-value')).toBe('180');
    expect((await api(`from=${DAY}&to=${DAY}&agent=codex`)).totals.tokens).toBe(180);

    // Back to every agent; sort the users by tokens ascending with the keyboard.
    await agent.selectOption('');
    await page.getByRole('button', { name: 'Show' }).press('Enter');
    await expect.poll(() => page.locator('#totals dd[data-measure=tokens]').getAttribute('data-value')).toBe('836');
    const tokensHeader = page.locator('#users th[data-column=tokens]');
    expect(await tokensHeader.getAttribute('aria-sort')).toBe('descending');
    await tokensHeader.getByRole('button').press('Enter');
    expect(await tokensHeader.getAttribute('aria-sort')).toBe('ascending');
    expect(await page.locator('#users tbody tr td:first-child').allTextContents()).toEqual([BOB.email, ALICE.email]);

    const csv = await page.locator('#users-csv').getAttribute('href');
    expect(csv).toBe(`usage?from=${DAY}&to=${DAY}&group_by=user&format=csv`);
    const response = await fetch(new URL(csv!, `${served.url}/api/dashboard`));
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await response.text()).split('\r\n');
    expect(lines[0]).toMatch(/^user_id,user_email,tokens,/);
    expect(lines.filter((l) => l.startsWith(`${ALICE.userId},${ALICE.email},668,`))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith(`${BOB.userId},${BOB.email},168,`))).toHaveLength(1);
  });

  it('says how to get data when the range is empty', async () => {
    await open('from=2025-01-01&to=2025-01-31');
    expect(await page.locator('#empty').isVisible()).toBe(true);
    expect(await page.locator('#content').isHidden()).toBe(true);
    expect(await page.locator('#empty').textContent()).toContain('/api/usage/rollup');
  });

  it('shows the API refusal of a bad range', async () => {
    await open('from=2026-11-22&to=2026-11-01');
    expect(await page.locator('#error').textContent()).toBe('from (2026-11-22) is after to (2026-11-01)');
  });
});

// biome-ignore-all lint/suspicious/noExplicitAny: admin API JSON bodies are read field by field
/**
 * The dashboard's pages in Debian's chromium against a real gateway whose records come from real calls
 * through the OpenAI simulator: each page shows the numbers the admin API gives, sign-in and sign-out
 * work, no request leaves the gateway's origin, no CSP violation, and screenshots of every page (light
 * and dark at 1280 px, a few at 390 px) land in test-output/dashboard/.
 */
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCompact, formatInteger, formatMs, formatPercent, formatUsd } from '../src/dashboard/web/format.ts';
import { goTo, launchBrowser, openPage, screenshot, seedTraffic, signIn, type WatchedPage } from './helpers/dashboard-browser.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const upstreamKey = 'sk-upstream-dashboard-pages-77c1';
const masterKey = 'mg-master-dashboard-pages-4b8e';
const pageTitles = ['Overview', 'Usage', 'Logs', 'Keys', 'Providers', 'Models', 'Cache', 'Guardrails', 'Workflows'];

// Each test loads many pages in a real browser: on a loaded 2-core machine that takes more than the default 30 s.
describe('dashboard pages', { timeout: 180_000 }, () => {
  let backend: StorageBackend;
  let simulator: Simulator;
  let running: RunningGateway;
  let browser: Browser;
  const opened: WatchedPage[] = [];

  const admin = async (path: string): Promise<any> => {
    const response = await fetch(`${running.url}/admin/api/v1${path}`, { headers: { authorization: `Bearer ${masterKey}` } });
    expect(response.status, path).toBe(200);
    return response.json();
  };
  const open = async (options: Parameters<typeof openPage>[2] = {}) => {
    const watched = await openPage(browser, running.url, options);
    opened.push(watched);
    return watched;
  };

  beforeAll(async () => {
    backend = createBackend('sqlite');
    simulator = await startOpenAISimulator({ apiKey: upstreamKey, models: ['gpt-4o-mini', 'gpt-4o', 'sim-server-error'] });
    running = await startGateway({
      ...backend.env,
      OPENAI_API_KEY: upstreamKey,
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      LOGGING_ENABLED: 'true',
      LOGGING_LOG_BODIES: 'true',
      LOGGING_LOG_HEADERS: 'true',
      RESPONSE_CACHE_SIMPLE_ENABLED: 'true',
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: '5',
    });
    await seedTraffic(running.url, masterKey);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const watched of opened) {
      // Whatever a test did, no page asked another origin for anything and the CSP was never violated.
      expect(watched.foreignRequests).toEqual([]);
      expect(watched.problems).toEqual([]);
    }
    await browser?.close();
    await running?.close();
    await simulator?.close();
    await backend?.cleanup();
  });

  it('refuses a wrong key, signs in with the master key, keeps the session in this tab, signs out', async () => {
    const { page } = await open();
    await page.goto(`${running.url}/admin/dashboard`);
    await page.getByLabel('Admin key').fill('mg-not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/not valid/);
    await page.getByLabel('Admin key').fill(masterKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('session').textContent()).toContain('master key');
    await screenshot(page, 'overview-signed-in');
    // A reload keeps the session (sessionStorage), and the key is sent as a Bearer token, never in a URL.
    const sent: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/admin/api/v1/')) sent.push(`${request.url()} ${request.headers().authorization ?? ''}`);
    });
    await page.reload();
    await page.getByTestId('session').waitFor();
    expect(sent.length).toBeGreaterThan(0);
    for (const line of sent) {
      expect(line).toMatch(new RegExp(` Bearer ${masterKey}$`));
      expect(line.split(' ')[0]).not.toContain(masterKey);
    }
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(masterKey);
    expect(await page.evaluate(() => Object.values(localStorage))).not.toContain(masterKey);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin key').waitFor();
    expect(await page.evaluate(() => Object.values(sessionStorage))).not.toContain(masterKey);
    await page.reload();
    await page.getByLabel('Admin key').waitFor();
  });

  it('Overview shows the totals of the admin API', async () => {
    const { page } = await open();
    await signIn(page, running.url, masterKey);
    const summary = await admin('/usage/summary?days=7');
    expect(summary.requests).toBe(9);
    const stat = (id: string) => page.getByTestId(`stat-${id}`).locator('[data-value]');
    await expect.poll(() => stat('requests').textContent()).toBe(formatInteger(summary.requests));
    expect(await stat('tokens').textContent()).toBe(formatCompact(summary.total_tokens));
    expect(await stat('cost').textContent()).toBe(formatUsd(summary.cost_usd));
    expect(await stat('error-rate').textContent()).toBe(`${((summary.error_requests / summary.requests) * 100).toFixed(1)}%`);
    // Latency percentiles and the cache come from /usage/timeseries (every seeded call is inside the range).
    const now = Date.now();
    const series = await admin(`/usage/timeseries?start=${now - 7 * 86_400_000}&end=${now + 3_600_000}&bucket=day`);
    expect(series.totals.requests).toBe(summary.requests);
    expect(await stat('latency-p50').textContent()).toBe(formatMs(series.totals.latency_p50_ms));
    expect(await stat('latency-p95').textContent()).toBe(formatMs(series.totals.latency_p95_ms));
    expect(await stat('cache-hit-rate').textContent()).toBe(formatPercent(series.totals.cache_hit_rate));
    expect(series.totals.cache_hits).toBe(1);
    // The charts are drawn (uPlot canvases), one per metric that has data.
    expect(await page.locator('[data-testid^="chart-"] canvas').count()).toBeGreaterThanOrEqual(4);
    // The range buttons change the range without a reload; the previous period is shown beside it.
    await page.getByRole('button', { name: '30 d' }).click();
    await expect.poll(() => page.getByRole('button', { name: '30 d' }).getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => stat('requests').textContent()).toBe(formatInteger(summary.requests));
    expect(await page.getByTestId('stat-requests').textContent()).toContain('previous 0');
    // Live refresh: a new call shows up without a reload; paused, the page stays as it is.
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    await page.getByLabel('Refresh every').selectOption('5');
    const client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'A call made while the page is open' }],
    });
    await expect.poll(() => stat('requests').textContent(), { timeout: 30_000 }).toBe(formatInteger(summary.requests + 1));
    await page.getByLabel('Live').uncheck();
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'A call made while paused' }] });
    await page.waitForTimeout(7_000);
    expect(await stat('requests').textContent()).toBe(formatInteger(summary.requests + 1));
    expect(navigations).toBe(0);
  });

  it('Usage shows the per-model and per-key numbers of the admin API and exports them as CSV', async () => {
    const { page } = await open();
    await signIn(page, running.url, masterKey);
    await goTo(page, 'Usage');
    const models = await admin('/usage/models?days=7');
    const table = page.getByTestId('usage-table');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(models.data.length);
    const shown = await Promise.all((await table.locator('tbody tr').all()).map((row) => row.locator('td').allTextContents()));
    for (const row of models.data) {
      const cells = shown.find((candidate) => candidate[0] === row.model) ?? [];
      expect(cells.slice(0, 3)).toEqual([row.model, row.provider, formatInteger(row.requests)]);
      expect(cells[5]).toBe(formatInteger(row.total_tokens));
      expect(cells[6]).toBe(formatUsd(row.cost_usd));
    }
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const file = await (await download).path();
    const csv = readFileSync(file, 'utf8').trim().split('\r\n');
    expect(csv[0]).toBe(
      'model,provider,requests,input_tokens,output_tokens,total_tokens,cost_usd,unpriced_requests,error_requests,average_latency_ms',
    );
    expect(csv.length).toBe(models.data.length + 1);
    const mini = models.data.find((row: any) => row.model === 'gpt-4o-mini');
    expect(csv).toContain(
      [
        mini.model,
        mini.provider,
        mini.requests,
        mini.input_tokens,
        mini.output_tokens,
        mini.total_tokens,
        mini.cost_usd,
        mini.unpriced_requests,
        mini.error_requests,
        mini.average_latency_ms,
      ].join(','),
    );
    await page.getByLabel('Group by').selectOption('key');
    const keys = await admin('/usage/groups?by=key&days=7');
    await expect.poll(() => table.locator('tbody tr').first().locator('td').first().textContent()).toBe(keys.data[0].group);
    expect(await table.locator('tbody tr').first().locator('td').nth(1).textContent()).toBe(formatInteger(keys.data[0].requests));
    await page.getByLabel('Measure').selectOption('cost');
    await expect.poll(() => page.getByTestId('usage-bars').textContent()).toContain(formatUsd(keys.data[0].cost_usd));
  });

  it('Logs list the audit log, filter errors, and the drawer shows details, attempts and the conversation', async () => {
    const { page } = await open();
    await signIn(page, running.url, masterKey);
    await goTo(page, 'Logs');
    const audit = await admin('/audit/log?days=7&limit=50');
    await expect.poll(() => page.getByTestId('logs-total').textContent()).toMatch(new RegExp(`^${audit.total} entries`));
    await expect.poll(() => page.getByTestId('logs-table').locator('tbody tr').count()).toBe(audit.data.length);
    await page.getByLabel('Errors only').check();
    await page.getByRole('button', { name: 'Apply' }).click();
    const errors = await admin('/audit/log?days=7&errors_only=true');
    // Anchored: "12 entries" contains "2 entries", so a bare toContain passed before the page had refreshed.
    await expect.poll(() => page.getByTestId('logs-total').textContent()).toMatch(new RegExp(`^${errors.total} entries`));
    await expect.poll(() => page.getByTestId('logs-table').locator('tbody tr').first().textContent()).toContain('sim-server-error');
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Search text').fill('And continue it');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.getByTestId('logs-table').locator('tbody tr').count()).toBe(1);
    await page.getByTestId('logs-table').locator('tbody tr button.link').first().click();
    const drawer = page.getByRole('dialog');
    await drawer.waitFor();
    const entry = audit.data.find((item: any) => JSON.stringify(item.request_body).includes('And continue it'));
    expect(await drawer.getByTestId('log-details').textContent()).toContain(entry.request_id);
    await expect.poll(() => drawer.getByTestId('thread').textContent()).toContain('2 calls in this conversation');
    const thread = await drawer.getByTestId('thread').textContent();
    expect(thread).toContain('Start a conversation');
    expect(thread).toContain('And continue it');
    expect(thread).toContain(entry.response_body.choices[0].message.content);
    expect(await drawer.getByTestId('log-attempts').textContent()).toContain('gpt-4o-mini');
    // Headers as stored: credentials redacted, never the key.
    const text = (await drawer.textContent()) ?? '';
    expect(text).toContain('[REDACTED]');
    expect(text).not.toContain(masterKey);
    await screenshot(page, 'logs-drawer-light-1280');
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
  });

  it('Providers, Models, Cache, Guardrails and Workflows show what the admin API says', async () => {
    const { page } = await open();
    await signIn(page, running.url, masterKey);
    await goTo(page, 'Providers');
    const status = await admin('/providers/status');
    const providerRow = page.getByTestId('providers-table').locator('tbody tr').first();
    await expect.poll(() => providerRow.locator('td').first().textContent()).toBe(status.data[0].name);
    expect(await providerRow.locator('td').nth(3).textContent()).toBe(String(status.data[0].models.length));
    expect(await page.getByText(status.data[0].models.join(', ')).count()).toBe(1);

    await goTo(page, 'Models');
    await page.getByLabel('Alias name').fill('fast');
    await page.getByLabel('Target model').fill('openai/gpt-4o-mini');
    await page.getByRole('button', { name: 'Save alias' }).click();
    await expect
      .poll(async () => (await admin('/aliases')).data.map((alias: any) => `${alias.name}->${alias.target}`))
      .toContain('fast->openai/gpt-4o-mini');
    await expect.poll(() => page.getByTestId('aliases-table').textContent()).toContain('openai/gpt-4o-mini');
    await page.getByLabel('Model', { exact: true }).fill('gpt-4o');
    await page.getByRole('button', { name: 'Save override' }).click();
    await expect
      .poll(async () => (await admin('/model-overrides')).data)
      .toEqual([{ provider: 'openai', model: 'gpt-4o', enabled: false, source: 'admin' }]);
    await expect.poll(() => page.getByTestId('overrides-table').textContent()).toContain('disabled');
    await page.getByTestId('overrides-table').getByRole('button', { name: 'Enable' }).click();
    await expect.poll(async () => (await admin('/model-overrides')).data[0].enabled).toBe(true);

    await goTo(page, 'Cache');
    const cache = await admin('/cache/overview?days=30');
    expect(cache.totals.hits).toBe(1);
    const stat = (id: string) => page.getByTestId(id).locator('[data-value]');
    await expect.poll(() => stat('cache-hits').textContent()).toBe(formatInteger(cache.totals.hits));
    expect(await stat('cache-misses').textContent()).toBe(formatInteger(cache.totals.misses));
    expect(await stat('cache-entries').textContent()).toBe(formatInteger(cache.store.entries));
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Purge cache' }).click();
    await expect.poll(async () => (await admin('/cache/overview')).store.entries).toBe(0);
    await expect.poll(() => stat('cache-entries').textContent()).toBe('0');

    await goTo(page, 'Guardrails');
    await expect.poll(() => page.getByTestId('guardrails-table').textContent()).toContain('No guardrail is in force');
    await goTo(page, 'Workflows');
    const workflows = await fetch(`${running.url}/admin/api/v1/workflows`, { headers: { authorization: `Bearer ${masterKey}` } });
    if (workflows.status === 404) {
      // A gateway without workflows: the page says so instead of failing.
      await expect.poll(() => page.getByText('Workflows is not built yet.').count()).toBe(1);
    } else {
      expect(workflows.status).toBe(200);
      const listed = ((await workflows.json()) as { data: unknown[] }).data.length;
      await expect.poll(() => page.getByTestId('workflows-table').locator('tbody tr').count()).toBe(Math.max(1, listed));
    }
  });

  it('Models: a virtual model made, changed and deleted in the editor; an alias and an override deleted', async () => {
    const { page } = await open();
    await signIn(page, running.url, masterKey);
    await goTo(page, 'Models');
    const toast = () => page.locator('.toast').textContent();
    const virtualModels = async () =>
      (await admin('/virtual-models')).data.map((entry: any) => `${entry.name}:${entry.strategy}:${entry.source}`);

    await page.getByRole('button', { name: 'New virtual model' }).click();
    await page.getByLabel('Name', { exact: true }).fill('mix');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(virtualModels).toContain('mix:weighted:admin');
    await expect.poll(toast).toBe('Virtual model mix saved');
    await expect.poll(() => page.getByTestId('virtual-models-table').textContent()).toContain('openai/gpt-4o-mini ×3');

    await page.getByRole('button', { name: 'Edit virtual model mix' }).click();
    await page
      .getByLabel(/^Definition/)
      .fill(JSON.stringify({ strategy: 'priority', targets: [{ model: 'openai/gpt-4o', priority: 1 }], session_affinity: false }));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(virtualModels).toContain('mix:priority:admin');
    // Not JSON: said in the form, nothing sent.
    await page.getByRole('button', { name: 'Edit virtual model mix' }).click();
    await page.getByLabel(/^Definition/).fill('{ not json');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Not JSON');
    await page.getByRole('button', { name: 'Cancel' }).click();

    page.once('dialog', (dialog) => {
      expect(dialog.message()).toBe('Delete virtual model mix?');
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Delete virtual model mix' }).click();
    await expect.poll(virtualModels).not.toContain('mix:priority:admin');
    await expect.poll(toast).toBe('Virtual model mix deleted');

    await page.getByLabel('Alias name').fill('short-lived');
    await page.getByLabel('Target model').fill('openai/gpt-4o');
    await page.getByRole('button', { name: 'Save alias' }).click();
    await expect.poll(() => page.getByTestId('aliases-table').textContent()).toContain('short-lived');
    // A dismissed confirmation deletes nothing.
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: 'Delete alias short-lived' }).click();
    await page.waitForTimeout(500);
    expect((await admin('/aliases')).data.map((alias: any) => alias.name)).toContain('short-lived');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete alias short-lived' }).click();
    await expect.poll(async () => (await admin('/aliases')).data.map((alias: any) => alias.name)).not.toContain('short-lived');
    await expect.poll(toast).toBe('Alias short-lived deleted');

    await page.getByLabel('Model', { exact: true }).fill('sim-server-error');
    await page.getByRole('button', { name: 'Save override' }).click();
    const overrides = async () => (await admin('/model-overrides')).data.map((entry: any) => `${entry.provider}/${entry.model}`);
    await expect.poll(overrides).toContain('openai/sim-server-error');
    await page.getByRole('button', { name: 'Delete override openai/sim-server-error' }).click();
    await expect.poll(overrides).not.toContain('openai/sim-server-error');
    await expect.poll(toast).toBe('Override deleted');
  });

  it('every page in both themes at 1280 px and a few at 390 px, with no foreign request or CSP violation', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page } = await open({ colorScheme });
      await signIn(page, running.url, masterKey);
      await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe(colorScheme);
      for (const title of pageTitles) {
        await goTo(page, title);
        await page.waitForLoadState('networkidle');
        await screenshot(page, `${title.toLowerCase()}-${colorScheme}-1280`);
      }
    }
    const { page } = await open({ width: 390, height: 844 });
    await signIn(page, running.url, masterKey);
    for (const title of ['Overview', 'Usage', 'Logs', 'Keys']) {
      await goTo(page, title);
      await page.waitForLoadState('networkidle');
      // Nothing wider than the phone's screen (the tables scroll inside their own box).
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, `${title.toLowerCase()}-light-390`);
    }
    // The toggle switches the theme without a reload.
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    // Polled: the click resolves before Preact has re-rendered (read too early in one clean-clone CI run).
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
  });
});

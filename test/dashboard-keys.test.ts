// biome-ignore-all lint/suspicious/noExplicitAny: admin API JSON bodies are read field by field
/**
 * Keys through the dashboard in Debian's chromium, checked on the real /v1 API with the official openai
 * client: a key created in the UI works and fails with 401 once revoked in the UI; rotating in the UI
 * retires the old secret; a budget added in the UI shows its spend; a read-only admin (admin:read) sees no
 * control that changes anything; an inference-only key cannot sign in; a key revoked while signed in sends
 * the page back to the sign-in.
 */
import OpenAI from 'openai';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsd } from '../src/dashboard/web/format.ts';
import { goTo, launchBrowser, openPage, screenshot, signIn, type WatchedPage } from './helpers/dashboard-browser.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const upstreamKey = 'sk-upstream-dashboard-keys-2d9a';
const masterKey = 'mg-master-dashboard-keys-8c1f';
const pageTitles = ['Overview', 'Usage', 'Logs', 'Keys', 'Providers', 'Models', 'Cache', 'Guardrails', 'Workflows'];
/** Buttons that only look or move (ranges, filters, paging, export, theme, refresh, sign-out): allowed to anyone. */
const readingButtons = new Set(['24 h', '7 d', '30 d', 'Custom', 'Apply', 'Clear', 'Export CSV', 'Newer', 'Older', 'Close']);

// Each test loads many pages in a real browser: on a loaded 2-core machine that takes more than the default 30 s.
describe('dashboard keys', { timeout: 180_000 }, () => {
  let backend: StorageBackend;
  let simulator: Simulator;
  let running: RunningGateway;
  let browser: Browser;
  const opened: WatchedPage[] = [];

  const admin = async (method: string, path: string, body?: unknown): Promise<any> => {
    const response = await fetch(`${running.url}/admin/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${masterKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    expect(response.status, `${method} ${path}`).toBeLessThan(300);
    return response.json();
  };
  const chatStatus = async (key: string): Promise<number> => {
    const client = new OpenAI({ apiKey: key, baseURL: `${running.url}/v1`, maxRetries: 0 });
    try {
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello through a UI key' }] });
      return 200;
    } catch (error) {
      if (error instanceof OpenAI.APIError && typeof error.status === 'number') return error.status;
      throw error;
    }
  };
  const signedInPage = async (key: string): Promise<Page> => {
    const watched = await openPage(browser, running.url);
    opened.push(watched);
    await signIn(watched.page, running.url, key);
    return watched.page;
  };
  const createInUi = async (page: Page, name: string): Promise<string> => {
    await page.getByRole('button', { name: 'New key' }).click();
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Requests / day').fill('1000');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('secret-value').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^mg-/);
    return secret;
  };

  beforeAll(async () => {
    backend = createBackend('sqlite');
    simulator = await startOpenAISimulator({ apiKey: upstreamKey, models: ['gpt-4o-mini'] });
    running = await startGateway({
      ...backend.env,
      OPENAI_API_KEY: upstreamKey,
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const watched of opened) {
      expect(watched.foreignRequests).toEqual([]);
      expect(watched.problems).toEqual([]);
    }
    await browser?.close();
    await running?.close();
    await simulator?.close();
    await backend?.cleanup();
  });

  it('a key created in the UI works on /v1/chat/completions, and fails with 401 after revoking it in the UI', async () => {
    const page = await signedInPage(masterKey);
    await goTo(page, 'Keys');
    const secret = await createInUi(page, 'ui-created');
    await screenshot(page, 'keys-created-light-1280');
    expect(await chatStatus(secret)).toBe(200);
    // Shown once: hiding it removes it from the page, and the list shows only the hint.
    await page.getByRole('button', { name: 'Done, hide it' }).click();
    expect(await page.getByTestId('secret-value').count()).toBe(0);
    const row = page.getByTestId('keys-table').locator('tbody tr', { hasText: 'ui-created' });
    await expect.poll(() => row.textContent()).toContain(`mg-...${secret.slice(-4)}`);
    expect(await page.content()).not.toContain(secret);
    // The call shows in its usage bar (requests today against its per-day limit).
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain('1 / 1,000');
    // ...read from the key's usage report: what is left of the limit now, as the admin API says.
    expect(await row.locator('[data-source="key-usage"]').count()).toBe(1);
    const created = (await admin('GET', '/keys')).data.find((key: any) => key.name === 'ui-created');
    const report = await admin('GET', `/keys/${created.id}/usage?days=1`);
    const perDay = report.rate_limits.find((limit: any) => limit.scope === 'key' && limit.name === 'requests_per_day');
    expect(perDay).toMatchObject({ limit: 1000, remaining: 999 });
    expect(report.usage.requests).toBe(1);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke ui-created' }).click();
    await expect.poll(() => row.count()).toBe(0);
    await expect.poll(() => chatStatus(secret), { timeout: 5_000 }).toBe(401);
    const keys = await admin('GET', '/keys?include_revoked=true');
    expect(keys.data.find((key: any) => key.name === 'ui-created').status).toBe('revoked');
  });

  it('rotating in the UI shows the new secret once and retires the old one; a budget added in the UI shows its spend', async () => {
    const page = await signedInPage(masterKey);
    await goTo(page, 'Keys');
    const first = await createInUi(page, 'ui-rotated');
    await page.getByRole('button', { name: 'Done, hide it' }).click();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Rotate ui-rotated' }).click();
    await expect.poll(() => page.getByTestId('new-secret').textContent()).toContain('New secret of ui-rotated');
    const second = (await page.getByTestId('secret-value').textContent())?.trim() ?? '';
    expect(second).toMatch(/^mg-/);
    expect(second).not.toBe(first);
    expect(await chatStatus(second)).toBe(200);
    await expect.poll(() => chatStatus(first), { timeout: 5_000 }).toBe(401);

    const key = (await admin('GET', '/keys')).data.find((entry: any) => entry.name === 'ui-rotated');
    await page.getByLabel('Subject (key id, user, team, tag, provider; empty: each)').fill(key.id);
    await page.getByLabel('Limit (USD)').fill('2.5');
    await page.getByRole('button', { name: 'Add budget' }).click();
    await expect.poll(async () => (await admin('GET', '/budgets')).data.length).toBe(1);
    expect(await chatStatus(second)).toBe(200);
    const [budget] = (await admin('GET', '/budgets')).data;
    expect(budget).toMatchObject({ scope: 'key', subject: key.id, limit_usd: 2.5, period: 'daily', source: 'admin' });
    expect(budget.spent_usd).toBeGreaterThan(0);
    const budgetRow = page.getByTestId('budgets-table').locator('tbody tr').first();
    await expect.poll(() => budgetRow.textContent(), { timeout: 15_000 }).toContain(`${formatUsd(budget.spent_usd)} / ${formatUsd(2.5)}`);
    // The key's own row shows the same budget as a bar (at the next live refresh, every 10 s).
    await expect
      .poll(() => page.getByTestId('keys-table').locator('tbody tr', { hasText: 'ui-rotated' }).textContent(), { timeout: 15_000 })
      .toContain('daily budget');
    // Deleted in the UI after confirming: gone from the admin API.
    page.once('dialog', (dialog) => {
      expect(dialog.message()).toBe(`Delete the daily budget of ui-rotated (${key.id})?`);
      void dialog.accept();
    });
    await page.getByRole('button', { name: `Delete budget ${budget.id}` }).click();
    await expect.poll(async () => (await admin('GET', '/budgets')).data).toEqual([]);
    await expect.poll(() => page.locator('.toast').textContent()).toBe('Budget deleted');
  });

  it('a read-only admin (admin:read) sees the pages but no control that changes anything', async () => {
    const readOnly = await admin('POST', '/keys', { name: 'auditor', scopes: ['admin:read'] });
    await admin('POST', '/aliases', { name: 'cheap', target: 'openai/gpt-4o-mini' });
    const page = await signedInPage(readOnly.key);
    await expect.poll(() => page.getByTestId('session').textContent()).toContain('read-only');
    for (const title of pageTitles) {
      await goTo(page, title);
      await page.waitForLoadState('networkidle');
      const buttons = await page.locator('main button:not(.link)').allTextContents();
      for (const label of buttons) expect(readingButtons.has(label.trim()), `${title}: button '${label}'`).toBe(true);
      expect(await page.locator('main textarea').count(), title).toBe(0);
    }
    await goTo(page, 'Models');
    // It still reads everything: the alias is listed.
    await expect.poll(() => page.getByTestId('aliases-table').textContent()).toContain('cheap');
    await goTo(page, 'Keys');
    await expect.poll(() => page.getByTestId('keys-table').textContent()).toContain('auditor');
    await screenshot(page, 'keys-read-only-light-1280');
  });

  it('refuses an inference-only key at sign-in, and a key revoked while signed in ends the session', async () => {
    const inference = await admin('POST', '/keys', { name: 'caller', scopes: ['inference'] });
    const watched = await openPage(browser, running.url);
    opened.push(watched);
    const { page } = watched;
    await page.goto(`${running.url}/admin/dashboard`);
    await page.getByLabel('Admin key').fill(inference.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('no admin scope');

    const operator = await admin('POST', '/keys', { name: 'operator', scopes: ['admin'] });
    await signIn(page, running.url, operator.key);
    await expect.poll(() => page.getByTestId('session').textContent()).toContain('operator');
    await admin('DELETE', `/keys/${operator.id}`);
    // The next call the page makes (going to another page, or its own refresh if that comes first) is refused
    // with 401: back to the sign-in.
    const usage = page.getByRole('link', { name: 'Usage', exact: true });
    await usage.click({ timeout: 5_000 }).catch(async (error: unknown) => {
      if (await usage.isVisible()) throw error;
    });
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toContain('Your session ended');
    expect(await page.evaluate(() => Object.values(sessionStorage))).not.toContain(operator.key);
  });
});

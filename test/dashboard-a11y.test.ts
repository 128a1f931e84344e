/**
 * Accessibility and the Content-Security-Policy of the dashboard in Debian's chromium:
 * - axe-core finds no serious or critical violation on any page, in both themes, nor on the sign-in page or
 *   the log drawer (axe is injected as an inline script, which the CSP forbids: only these contexts are
 *   created with bypassCSP);
 * - in a normal context the CSP is sent and enforced (an inline script is refused and reported), and the
 *   pages load with no violation;
 * - keyboard: the skip link comes first and moves the focus to the content; every page is reachable with Tab.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardContentSecurityPolicy } from '../src/dashboard/dashboard-routes.ts';
import { goTo, launchBrowser, openPage, seedTraffic, signIn, type WatchedPage } from './helpers/dashboard-browser.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const upstreamKey = 'sk-upstream-dashboard-a11y-51e0';
const masterKey = 'mg-master-dashboard-a11y-9d3c';
const pageTitles = ['Overview', 'Usage', 'Logs', 'Keys', 'Providers', 'Models', 'Cache', 'Guardrails', 'Workflows'];
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const violations = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  })) as AxeViolation[];
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
}

// Each test loads many pages in a real browser: on a loaded 2-core machine that takes more than the default 30 s.
describe('dashboard accessibility and CSP', { timeout: 180_000 }, () => {
  let backend: StorageBackend;
  let simulator: Simulator;
  let running: RunningGateway;
  let browser: Browser;
  const opened: WatchedPage[] = [];

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
      RESPONSE_CACHE_SIMPLE_ENABLED: 'true',
    });
    await seedTraffic(running.url, masterKey);
    const created = await fetch(`${running.url}/admin/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'listed', rate_limits: { requests_per_day: 100 } }),
    });
    expect(created.status).toBe(201);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const watched of opened) expect(watched.foreignRequests).toEqual([]);
    await browser?.close();
    await running?.close();
    await simulator?.close();
    await backend?.cleanup();
  });

  it.each(['light', 'dark'] as const)(
    'axe-core finds no serious or critical violation on any page in the %s theme, sign-in and drawer included',
    async (colorScheme) => {
      const watched = await openPage(browser, running.url, { colorScheme, bypassCSP: true });
      opened.push(watched);
      const { page } = watched;
      await page.goto(`${running.url}/admin/dashboard`);
      await page.getByLabel('Admin key').waitFor();
      expect(await seriousViolations(page), `sign-in ${colorScheme}`).toEqual([]);
      await signIn(page, running.url, masterKey);
      for (const title of pageTitles) {
        await goTo(page, title);
        await page.waitForLoadState('networkidle');
        expect(await seriousViolations(page), `${title} ${colorScheme}`).toEqual([]);
      }
      await goTo(page, 'Logs');
      await page.getByTestId('logs-table').locator('tbody tr button.link').first().click();
      await page.getByRole('dialog').getByTestId('thread').waitFor();
      expect(await seriousViolations(page), `log drawer ${colorScheme}`).toEqual([]);
      await page.keyboard.press('Escape');
      await goTo(page, 'Keys');
      await page.getByRole('button', { name: 'New key' }).click();
      expect(await seriousViolations(page), `key form ${colorScheme}`).toEqual([]);
    },
  );

  it('sends and enforces the CSP: an inline script is refused and reported, the pages themselves cause no violation', async () => {
    const response = await fetch(`${running.url}/admin/dashboard/usage`);
    expect(response.headers.get('content-security-policy')).toBe(dashboardContentSecurityPolicy);
    const watched = await openPage(browser, running.url);
    opened.push(watched);
    const { page, problems } = watched;
    const loaded = await page.goto(`${running.url}/admin/dashboard`);
    expect(await loaded?.headerValue('content-security-policy')).toBe(dashboardContentSecurityPolicy);
    await signIn(page, running.url, masterKey);
    for (const title of pageTitles) await goTo(page, title);
    expect(problems).toEqual([]);
    // The policy is live: what the dashboard never does (an inline script) is refused, and seen.
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.append(script);
    });
    await expect.poll(() => problems.join('\n')).toMatch(/Content Security Policy/i);
    expect(await page.evaluate(() => (window as unknown as { inlineRan?: boolean }).inlineRan)).toBeUndefined();
  });

  it('is keyboard reachable: the skip link comes first, every page is reached with Tab and Enter', async () => {
    const watched = await openPage(browser, running.url);
    opened.push(watched);
    const { page } = watched;
    await signIn(page, running.url, masterKey);
    await page.reload();
    await page.getByTestId('session').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    for (const title of pageTitles) {
      await page.keyboard.press('Shift+Tab');
      // From the content back up through the navigation until the link of this page has the focus.
      let found = false;
      for (let step = 0; step < 30 && !found; step++) {
        found = (await page.evaluate(() => document.activeElement?.textContent)) === title;
        if (!found) await page.keyboard.press('Shift+Tab');
      }
      expect(found, title).toBe(true);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    }
    expect(watched.problems).toEqual([]);
  });
});

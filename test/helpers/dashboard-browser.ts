/**
 * Browser tests of the admin dashboard: Debian's chromium (scripts/chromium.sh installs it) driven by
 * playwright-core, against a real gateway whose usage and audit records come from real calls through the
 * OpenAI simulator. Every page load is watched: requests to another origin are blocked and recorded, and
 * so are CSP violations and page errors, so a test can assert there were none.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';
export const screenshotDirectory = join(process.cwd(), 'test-output', 'dashboard');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** URLs of requests to any origin other than the gateway's (blocked). */
  foreignRequests: string[];
  /** Console messages about the Content-Security-Policy, and page errors. */
  problems: string[];
  close(): Promise<void>;
}

export async function openPage(
  browser: Browser,
  gatewayUrl: string,
  options: { width?: number; height?: number; colorScheme?: 'light' | 'dark'; bypassCSP?: boolean } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    colorScheme: options.colorScheme ?? 'light',
    bypassCSP: options.bypassCSP ?? false,
    reducedMotion: 'reduce',
  });
  const origin = new URL(gatewayUrl).origin;
  const foreignRequests: string[] = [];
  const problems: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || new URL(url).origin === origin) await route.continue();
    else {
      foreignRequests.push(url);
      await route.abort('blockedbyclient');
    }
  });
  const page = await context.newPage();
  // A missing element fails the test in seconds, not at the test's own timeout.
  page.setDefaultTimeout(15_000);
  page.on('console', (message) => {
    const text = message.text();
    if (/content security policy|content-security-policy|refused to/i.test(text)) problems.push(`console: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { context, page, foreignRequests, problems, close: () => context.close() };
}

export async function signIn(page: Page, gatewayUrl: string, key: string, path = '/admin/dashboard'): Promise<void> {
  await page.goto(`${gatewayUrl}${path}`);
  await page.getByLabel('Admin key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('session').waitFor();
}

/** Goes to a page through the navigation (no reload) and waits for its heading. */
export async function goTo(page: Page, title: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Dashboard pages' }).getByRole('link', { name: title, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDirectory, { recursive: true });
  const path = join(screenshotDirectory, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Usage and audit records made the way users make them: chat calls with the official openai client through
 * the gateway (two models, one repeated question, one failing model, a two-turn conversation): 9 calls.
 */
export async function seedTraffic(gatewayUrl: string, key: string): Promise<void> {
  const client = new OpenAI({ apiKey: key, baseURL: `${gatewayUrl}/v1`, maxRetries: 0 });
  for (let index = 0; index < 4; index++) {
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: `Question number ${index} about the weather` }],
    });
  }
  // The same question again: a cache hit when the response cache is on (once the answers are stored, which
  // happens after they were sent).
  await untilCacheStored(gatewayUrl, key, 4);
  await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Question number 0 about the weather' }],
  });
  await client.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'A longer question for the larger model' }],
  });
  const first = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Start a conversation' }],
  });
  await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'user', content: 'Start a conversation' },
      { role: 'assistant', content: first.choices[0]?.message.content ?? '' },
      { role: 'user', content: 'And continue it' },
    ],
  });
  await client.chat.completions
    .create({ model: 'sim-server-error', messages: [{ role: 'user', content: 'This one fails' }] })
    .catch(() => undefined);
}

/** Waits (at most 10 s) until the response cache, when it is on, has stored `count` answers. */
async function untilCacheStored(gatewayUrl: string, key: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${gatewayUrl}/admin/api/v1/cache/overview`, { headers: { authorization: `Bearer ${key}` } });
    if (!response.ok) return;
    const overview = (await response.json()) as { enabled: { exact: boolean }; process: { stored: number } };
    if (!overview.enabled.exact || overview.process.stored >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postJson, useDemo } from './helpers.js';

// Debian's Chromium (apt-get install chromium); .ci/run installs it. Never a downloaded browser.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  throw new Error(`CI needs Chromium at ${CHROMIUM} for the dashboard test; .ci/run installs it with apt-get install chromium.`);
}
// Fairness and quotas on, so the admission panel has numbers: tenants named throttled-* get one operation, ever.
const env = useDemo({
  fairness: { maxConcurrentPerTenant: 8 },
  quotas: { perTenant: (t) => (t.startsWith('throttled-') ? { opsPerSecond: 0.001, burst: 1 } : undefined) },
});
const artifacts = join(__dirname, '..', 'test-artifacts');

// Skipped only outside CI on a machine without Chromium (say, a laptop that never installed it): the test needs a
// real browser and must not download one.
describe.skipIf(!haveChromium)('dashboard in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    mkdirSync(artifacts, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Opens the dashboard, collecting console errors and failed requests. */
  async function open(width: number, height: number): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width, height } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${env.base}/dashboard`);
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'connected', undefined, { timeout: 15_000 });
    return { page, problems };
  }

  const number = async (page: Page, selector: string) => Number((await page.textContent(selector))?.replace(/,/g, ''));

  async function load(n: number): Promise<void> {
    const [a, b] = env.tenants as [string, string];
    for (let i = 0; i < n; i++) {
      await postJson(`${env.base}/t/${i % 2 ? a : b}/events`, { type: 'browser-test', payload: { i } });
      await fetch(`${env.base}/t/${a}/events`);
    }
    await postJson(`${env.base}/t/${a}/events`, { type: '' }); // refused by the repository's schema: VALIDATION_FAILED
  }

  test('desktop: numbers move under load, refusals are apart from server errors, the drill-down opens', async () => {
    const { page, problems } = await open(1280, 1000);
    const before = await number(page, '#ops-total');
    await load(20);
    await page.waitForFunction((n) => Number(document.getElementById('ops-total')?.textContent?.replace(/,/g, '')) >= n + 40, before, {
      timeout: 15_000,
    });
    await expect.poll(() => number(page, '#refusals'), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    expect(await page.textContent('#server-errors')).toBe('0');
    const poolRow = page.locator('#pools tr[data-pool="cluster:default"] td');
    await expect.poll(async () => Number(await poolRow.nth(3).textContent())).toBeGreaterThanOrEqual(1);
    await expect.poll(async () => (await page.textContent('#p99')) !== '—').toBe(true);
    const [a] = env.tenants as [string];
    await page.locator(`#tenants tr[data-tenant="${a}"]`).click();
    await page.waitForSelector('#drill:not([hidden]) dd[data-field="operations"]');
    expect(await page.textContent('#drill-name')).toBe(a);
    expect(Number((await page.textContent('#drill dd[data-field="operations"]'))?.replace(/,/g, ''))).toBeGreaterThanOrEqual(20);
    expect(await page.textContent('#drill dd[data-field="errors by code"]')).toContain('VALIDATION_FAILED');
    await page.screenshot({ path: join(artifacts, 'dashboard-desktop.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('the admission panel lists a throttled tenant with its count, and the totals', async () => {
    const { page, problems } = await open(1280, 1000);
    const hot = `throttled-${Math.random().toString(36).slice(2, 8)}`;
    const items = env.demo.poly.tenant(hot).collection('items');
    await items.findOne({}); // the bucket's only token
    for (let i = 0; i < 3; i++) await expect(items.findOne({})).rejects.toMatchObject({ code: 'TENANT_QUOTA_EXCEEDED' });
    const cells = page.locator(`#admission tr[data-tenant="${hot}"] td`);
    await expect.poll(() => cells.nth(4).textContent(), { timeout: 15_000 }).toBe('3');
    expect(await cells.allTextContents()).toEqual([hot, '0', '0', '0', '3']);
    expect(await page.textContent('#admission-summary')).toMatch(
      /in flight \d+ · queued \d+ · .*throttled \(TENANT_QUOTA_EXCEEDED\) [1-9]/,
    );
    await page.screenshot({ path: join(artifacts, 'dashboard-admission.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('a reload keeps the history (kept server-side); phone width (390 px) has no horizontal overflow', async () => {
    const { page, problems } = await open(390, 844);
    await load(5);
    // The chart's history arrives at once on load, from the server.
    await expect
      .poll(() => page.evaluate(() => document.getElementById('legend')?.textContent ?? ''), { timeout: 15_000 })
      .toMatch(/insert|find/);
    await page.reload();
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'connected');
    expect(await page.evaluate(() => document.getElementById('legend')?.textContent ?? '')).toMatch(/insert|find/);
    // Nothing sticks out of the viewport (tables scroll inside their cards).
    const offenders = await page.evaluate(() =>
      Array.from(document.querySelectorAll('body *'))
        .filter((el) => !el.closest('.scroll') && el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
        .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`),
    );
    expect(offenders).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(artifacts, 'dashboard-phone.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});

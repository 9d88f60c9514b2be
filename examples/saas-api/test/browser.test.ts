import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { postJson, useDemo } from './helpers.js';

// Debian's Chromium (apt-get install chromium); .ci/run installs it. Never a downloaded browser.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  throw new Error(`CI needs Chromium at ${CHROMIUM} for the dashboard test; .ci/run installs it with apt-get install chromium.`);
}
const env = useDemo();

// Skipped only outside CI on a machine without Chromium (say, a laptop that never installed it): the test needs a
// real browser and must not download one.
describe.skipIf(!haveChromium)('dashboard in headless Chromium', () => {
  test('shows the operation count and pool numbers changing as requests arrive', async () => {
    const browser = await chromium.launch({
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
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${env.base}/dashboard`);
      await page.waitForFunction(() => document.getElementById('state')?.textContent === 'connected', undefined, { timeout: 10_000 });
      const count = async () => Number((await page.textContent('#ops-total'))?.replace(/,/g, ''));
      const before = await count();
      const [a, b] = env.tenants as [string, string];
      for (let i = 0; i < 20; i++) {
        await postJson(`${env.base}/t/${i % 2 ? a : b}/events`, { type: 'browser-test', payload: { i } });
        await fetch(`${env.base}/t/${a}/events`);
      }
      await page.waitForFunction((n) => Number(document.getElementById('ops-total')?.textContent?.replace(/,/g, '')) >= n + 40, before, {
        timeout: 10_000,
      });
      expect(await count()).toBeGreaterThanOrEqual(before + 40);
      const poolRow = page.locator('#pools tr[data-pool="cluster:default"] td');
      await expect.poll(async () => Number(await poolRow.nth(2).textContent())).toBeGreaterThanOrEqual(1);
      const tenants = await page.textContent('#tenants');
      expect(tenants).toContain(a);
      const dir = join(__dirname, '..', 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'dashboard.png'), fullPage: true });
      expect(existsSync(join(dir, 'dashboard.png'))).toBe(true);
    } finally {
      await browser.close();
    }
  });
});

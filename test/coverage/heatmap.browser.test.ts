/**
 * Opens the HTML report in Debian's headless chromium (driven by playwright-core; no browser is
 * downloaded: scripts/test-all.sh installs the `chromium` package) and checks the heatmap works:
 * one element per cell with its state, details on click, filters, no network. Writes a screenshot to
 * test-output/coverage-heatmap.png.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoverageReport } from '../../src/coverage/build.js';
import { renderHtmlReport } from '../../src/coverage/html.js';
import type { CoverageReport } from '../../src/coverage/model.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import { PROD, buildFixture } from './fixture.js';

const OUTPUT = resolve('test-output');
const CHROMIUM = '/usr/bin/chromium';

describe('the HTML heatmap in a real browser', () => {
  let fake: FakeFalconServer;
  let report: CoverageReport;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const requests: string[] = [];

  beforeAll(async () => {
    fake = await FakeFalconServer.start();
    const fx = await buildFixture(fake);
    try {
      report = await buildCoverageReport(fx.deps, fx.options);
    } finally {
      fx.restore();
    }
    mkdirSync(OUTPUT, { recursive: true });
    const file = join(OUTPUT, 'coverage-heatmap.html');
    writeFileSync(file, await renderHtmlReport(report));
    profile = mkdtempSync(join(tmpdir(), 'falcon-org-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1500, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-grid-complete="true"]');
  }, 60_000);

  afterAll(async () => {
    await context.close();
    await fake.close();
    rmSync(profile, { recursive: true, force: true });
  });

  const visibleCells = () => page.locator('section.feature:not([hidden]) td.cell:not(.filtered)').count();

  it('has one heatmap cell per report cell, each with its state', async () => {
    expect(await page.locator('td.cell').count()).toBe(report.cells.length);
    const states: string[] = [];
    for (const td of await page.locator('td.cell').all()) {
      const attr = async (name: string) => (await td.getAttribute(`data-${name}`)) ?? '';
      states.push(
        `${await attr('feature')} ${await attr('account')} ${await attr('region')} ${await attr('state')}`,
      );
    }
    expect(states.sort()).toEqual(
      report.cells.map((c) => `${c.feature} ${c.accountId} ${c.region} ${c.state}`).sort(),
    );
    expect(await page.locator('#shown').textContent()).toBe(`17 of 17 cells shown`);
  });

  it("shows a cell's reasons and items on click", async () => {
    expect(await page.locator('#details').isVisible()).toBe(false);
    await page
      .locator(`td.cell[data-feature="ssmDistributor"][data-account="${PROD}"][data-region="us-east-1"]`)
      .click();
    expect(await page.locator('#details').isVisible()).toBe(true);
    await page.waitForSelector('body[data-details="shown"]');
    expect(await page.locator('#details-title').textContent()).toBe(
      `${PROD} (prod) · us-east-1 · ssmDistributor`,
    );
    const reasons = await page.locator('#details-reasons li').allTextContents();
    expect(reasons).toEqual([
      '1 instance: Installed, not reporting: the association succeeded but Falcon does not see this instance',
      '1 instance: Not covered: not SSM-managed',
    ]);
    const items = await page.locator('#details-items tbody tr').allTextContents();
    expect(items).toHaveLength(3);
    expect(items.find((t) => t.includes('i-0a000000000000002'))).toContain('Installed, not reporting');
    // Another cell replaces the details.
    await page
      .locator(`td.cell[data-feature="eksProtection"][data-account="${PROD}"][data-region="us-east-1"]`)
      .click();
    await page.waitForSelector('body[data-details="shown"]');
    expect(await page.locator('#details-items tbody tr').allTextContents()).toEqual([
      expect.stringContaining('prod-eks'),
      expect.stringContaining('config-map-auth'),
    ]);
    // The counts line names every item state, partly protected clusters included.
    expect(await page.locator('#details-state').textContent()).toBe(
      'partial — 1 protected, 0 partial, 1 unprotected, 0 unknown of 2',
    );
  });

  it('filters by state and by feature', async () => {
    const unprotected = report.cells.filter((c) => c.state === 'unprotected');
    for (const state of ['protected', 'partial', 'not-applicable', 'unknown']) {
      await page.locator(`#filters input[name="state"][value="${state}"]`).uncheck();
    }
    expect(await visibleCells()).toBe(unprotected.length);
    expect(await page.locator('#shown').textContent()).toBe(`${unprotected.length} of 17 cells shown`);
    await page.locator('#filters input[name="feature"][value="ecrConnections"]').uncheck();
    expect(await page.locator('section.feature[data-feature="ecrConnections"]').isVisible()).toBe(false);
    expect(await visibleCells()).toBe(unprotected.filter((c) => c.feature !== 'ecrConnections').length);
    // Back to everything for the screenshot.
    for (const input of await page.locator('#filters input[type=checkbox]').all()) await input.check();
    expect(await visibleCells()).toBe(17);
  });

  it('makes no network request and writes a screenshot', async () => {
    await page
      .locator(`td.cell[data-feature="ssmDistributor"][data-account="${PROD}"][data-region="us-east-1"]`)
      .click();
    await page.screenshot({ path: join(OUTPUT, 'coverage-heatmap.png'), fullPage: true });
    expect(requests.every((u) => u.startsWith('file:'))).toBe(true);
    expect(requests.length).toBeGreaterThan(0);
  });
});

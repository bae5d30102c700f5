/**
 * The heatmap at the size it is for: 1,000 accounts × 17 regions × 3 features (51,000 cells, 5
 * instances per SSM cell) in Debian's headless chromium (playwright-core, /usr/bin/chromium). The
 * page must stay under 5 MiB, draw its grid within 2 s of loading, and decompress an account's items
 * only when one of its cells is opened. Also: filtered cells leave the tab order, search finds
 * accounts by OU name, unreadable accounts rank with the worst.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleReport } from '../../src/coverage/build.js';
import { cellOf } from '../../src/coverage/cells.js';
import { renderHtmlReport } from '../../src/coverage/html.js';
import type { CoverageCell, CoverageItem, CoverageReport, ReportAccount } from '../../src/coverage/model.js';

const OUTPUT = resolve('test-output');
const ACCOUNTS = 1000;
const REGIONS = [
  'af-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ca-central-1',
  'eu-central-1',
  'eu-north-1',
  'eu-south-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-2',
];
const LONG_ERROR =
  'Falcon answered 500 Internal Server Error: {"errors":[{"code":500,"message":"an unexpected error occurred while reading the device list; please retry later or contact support with trace id 0f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0"}]}';

function instance(account: string, region: string, i: number): CoverageItem {
  const id = `i-${account.slice(-6)}${String(REGIONS.indexOf(region)).padStart(2, '0')}${String(i).padStart(9, '0')}`;
  if (i === 4) {
    return {
      kind: 'instance',
      id,
      state: 'unknown',
      reasons: [{ code: 'falcon-unreadable', text: LONG_ERROR }],
      facts: { ssmManaged: true },
    };
  }
  if (i === 3) {
    return {
      kind: 'instance',
      id,
      name: `web-${i}`,
      state: 'unprotected',
      reasons: [
        {
          code: 'not-ssm-managed',
          text: `Not covered: not SSM-managed. Instance ${id} has no SSM agent online.`,
        },
      ],
      facts: { ssmManaged: false },
    };
  }
  return {
    kind: 'instance',
    id,
    name: `web-${i}`,
    state: 'protected',
    reasons: [{ code: 'reporting', text: 'Falcon sees the sensor.' }],
    facts: { ssmManaged: true, falconDeviceId: `dev-${id}`, lastSeen: '2026-11-29T05:55:00Z' },
  };
}

function bigReport(): CoverageReport {
  const accounts: ReportAccount[] = [];
  const cells: CoverageCell[] = [];
  for (let n = 0; n < ACCOUNTS; n++) {
    const id = String(100000000000 + n);
    const parent = `ou-ab12-${String(n % 10).padStart(8, '0')}`;
    if (n === 777) {
      const reason = {
        code: 'account-unreadable' as const,
        text: 'The account could not be read: AccessDenied.',
      };
      accounts.push({ id, name: `account-${n}`, parent, readable: false, reason });
      for (const feature of ['ssmDistributor', 'eksProtection', 'ecrConnections'] as const) {
        cells.push({
          accountId: id,
          region: 'us-east-1',
          feature,
          state: 'unknown',
          counts: { total: 0, protected: 0, partial: 0, unprotected: 0, notApplicable: 0, unknown: 0 },
          reasons: [reason],
          items: [],
        });
      }
      continue;
    }
    accounts.push({ id, name: `account-${n}`, parent, readable: true });
    for (const region of REGIONS) {
      cells.push(
        cellOf(
          { accountId: id, region, feature: 'ssmDistributor' },
          [0, 1, 2, 3, 4].map((i) => instance(id, region, i)),
          [],
          'instance',
        ),
      );
      cells.push(cellOf({ accountId: id, region, feature: 'eksProtection' }, [], [], 'cluster'));
      const owned = n % 50 !== 1;
      cells.push(
        cellOf(
          { accountId: id, region, feature: 'ecrConnections' },
          [
            {
              kind: 'registry',
              id: `${id}.dkr.ecr.${region}.amazonaws.com`,
              state: 'protected',
              reasons: [{ code: 'connected', text: 'Connected (state "connected").' }],
              facts: { ownedByThisDeployment: owned },
            },
          ],
          owned
            ? []
            : [{ code: 'connection-not-owned', text: 'The connection was not created by this deployment.' }],
          'registry',
        ),
      );
    }
  }
  return assembleReport(
    {
      generatedAt: '2026-11-29T12:00:00.000Z',
      scope: {
        partition: 'aws',
        homeRegion: 'us-east-1',
        targets: ['r-ab12'],
        excludeAccounts: [],
        features: ['ssmDistributor', 'eksProtection', 'ecrConnections'],
      },
      accounts,
      ous: Object.fromEntries(
        Array.from({ length: 10 }, (_, i) => [`ou-ab12-${String(i).padStart(8, '0')}`, `team-${i}`]),
      ),
    },
    cells,
  );
}

describe('the heatmap of 1,000 accounts × 17 regions in a real browser', () => {
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let file: string;
  const requests: string[] = [];

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    file = join(OUTPUT, 'coverage-heatmap-1000.html');
    writeFileSync(file, await renderHtmlReport(bigReport()));
    profile = mkdtempSync(join(tmpdir(), 'falcon-org-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-sync',
      ],
      viewport: { width: 1500, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-grid="drawn"]', { timeout: 60_000 });
    await page.waitForSelector('body[data-grid-complete="true"]', { timeout: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('is at most 5 MiB and draws its grid within 2 s of loading', async () => {
    const bytes = statSync(file).size;
    expect(bytes).toBeLessThan(5 * 1024 * 1024);
    const drawnMs = await page.evaluate(() => (globalThis as unknown as { gridDrawnAt: number }).gridDrawnAt);
    console.log(
      `heatmap 1,000 × 17: ${(bytes / 1048576).toFixed(2)} MiB, grid drawn ${Math.round(drawnMs)} ms after navigation start`,
    );
    expect(drawnMs).toBeLessThan(2000);
    expect(await page.locator('td.cell').count()).toBe((ACCOUNTS - 1) * 17 * 3 + 3);
  });

  it('ranks the unreadable account with the worst, and marks connections this deployment does not own', async () => {
    const first = page.locator('section.feature[data-feature="ssmDistributor"] tbody tr').first();
    expect(await first.locator('th code').textContent()).toBe('100000000777');
    expect(await page.locator('td.cell.not-owned').count()).toBe(20 * 17);
  });

  it("decompresses an account's items only when one of its cells is opened, and shows a long error once", async () => {
    const cell = page.locator(
      'td.cell[data-feature="ssmDistributor"][data-account="100000000042"][data-region="eu-west-1"]',
    );
    await cell.click();
    await page.waitForSelector('body[data-details="shown"]');
    const rows = await page.locator('#details-items tbody tr').allTextContents();
    expect(rows).toHaveLength(5);
    expect(rows.find((r) => r.includes('not SSM-managed'))).toBeDefined();
    // The long Falcon error: collapsed to a summary the first time, full text on demand.
    expect(await page.locator('#details-items details').count()).toBe(1);
    expect(await page.locator('#details-items details p').textContent()).toBe(LONG_ERROR);
    expect(requests.every((u) => u.startsWith('file:'))).toBe(true);
  });

  it('filters by OU name; filtered cells leave the tab order and ignore Enter', async () => {
    await page.fill('#search', 'team-3');
    const shown = await page
      .locator('section.feature[data-feature="ssmDistributor"] tbody tr:not([hidden])')
      .count();
    expect(shown).toBe(100);
    const hidden = page.locator(
      'td.cell[data-feature="ssmDistributor"][data-account="100000000042"][data-region="eu-west-1"]',
    );
    expect(await hidden.getAttribute('tabindex')).toBe('-1');
    await page.locator('#close').click();
    await hidden.dispatchEvent('keydown', { key: 'Enter' });
    expect(await page.locator('#details').isVisible()).toBe(false);
    await page.fill('#search', '');
  });
});

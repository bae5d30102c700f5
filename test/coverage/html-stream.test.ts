/**
 * The heatmap is written piece by piece: at thousands of accounts no write carries the whole grid (or
 * any piece near its size), and the pieces still make one grid the page can parse.
 */
import { describe, expect, it } from 'vitest';
import { assembleReport } from '../../src/coverage/build.js';
import { cellOf } from '../../src/coverage/cells.js';
import { writeHtmlReport } from '../../src/coverage/html.js';
import type { CoverageCell, ReportAccount } from '../../src/coverage/model.js';

const ACCOUNTS = 3000;
const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2'];

function summary() {
  const accounts: ReportAccount[] = [];
  const cells: CoverageCell[] = [];
  for (let n = 0; n < ACCOUNTS; n += 1) {
    const id = String(100000000000 + n);
    accounts.push({ id, name: `account-${n}`, readable: true });
    for (const region of REGIONS) {
      cells.push(
        cellOf(
          { accountId: id, region, feature: 'ssmDistributor' },
          [
            {
              kind: 'instance',
              id: `i-${id}${region.length}`,
              state: n % 7 === 0 ? 'unprotected' : 'protected',
              reasons: [],
              facts: {},
            },
          ],
          [],
          'instance',
        ),
      );
    }
  }
  return assembleReport(
    {
      generatedAt: '2026-11-29T06:00:00.000Z',
      scope: {
        partition: 'aws',
        homeRegion: 'us-east-1',
        targets: ['r-ab12'],
        excludeAccounts: [],
        features: ['ssmDistributor'],
      },
      accounts,
    },
    cells,
  );
}

describe('the heatmap writer', () => {
  it('writes the grid of 3,000 accounts in small pieces that make one parseable grid, worst rows first', async () => {
    const chunks: string[] = [];
    await writeHtmlReport(summary(), undefined, (chunk) => {
      chunks.push(chunk);
    });
    const page = chunks.join('');
    const largest = Math.max(...chunks.map((c) => Buffer.byteLength(c)));
    const grid = /<script type="application\/json" id="coverage-grid">(.*?)<\/script>/s.exec(page)?.[1] ?? '';
    expect(Buffer.byteLength(grid)).toBeGreaterThan(200 * 1024);
    // Not one piece holds more than a tenth of the grid.
    expect(largest).toBeLessThan(Buffer.byteLength(grid) / 10);
    const data = JSON.parse(grid) as {
      cells: number;
      accounts: [string, string, string, number, string][];
      grid: { ssmDistributor: [number, ...unknown[]][] };
    };
    expect(data.cells).toBe(ACCOUNTS * REGIONS.length);
    expect(data.accounts).toHaveLength(ACCOUNTS);
    const rows = data.grid.ssmDistributor;
    expect(rows).toHaveLength(ACCOUNTS);
    // Unprotected accounts (every seventh) first, then by ID.
    const first = rows[0];
    expect(data.accounts[first?.[0] ?? -1]?.[0]).toBe('100000000000');
    expect(rows.slice(0, Math.ceil(ACCOUNTS / 7)).every((r) => r[0] % 7 === 0)).toBe(true);
    expect(rows[0]?.slice(1)).toEqual([
      [2, 0, 1, 0],
      [2, 0, 1, 0],
      [2, 0, 1, 0],
    ]);
  });
});

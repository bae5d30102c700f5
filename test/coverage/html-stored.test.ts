/**
 * `status --latest --html` renders a report read back from S3, not one this process built: whatever
 * it carries (a state, a total) is text to escape, never markup.
 */
import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/coverage/html.js';
import { parseStoredReport } from '../../src/coverage/latest.js';
import type { CoverageReport } from '../../src/coverage/model.js';
import { sampleReport } from './publish-fixture.js';

const EVIL = '"><img src=x onerror=alert(1)>';

describe('the HTML of a stored report', () => {
  it('escapes cell states and totals it did not make', async () => {
    const stored = JSON.parse(JSON.stringify(sampleReport())) as {
      cells: { state: string }[];
      totals: Record<string, Record<string, unknown>>;
    };
    const first = stored.cells[0];
    if (first === undefined) throw new Error('fixture');
    first.state = EVIL;
    const ssm = stored.totals.ssmDistributor;
    if (ssm === undefined) throw new Error('fixture');
    ssm.protected = EVIL;
    // The stored report is refused before rendering; the renderer escapes it even so.
    expect(() => parseStoredReport(JSON.stringify(stored), 's3://bucket/latest.json')).toThrow(
      'cells[0].state',
    );
    const report = stored as unknown as CoverageReport;

    const html = await renderHtmlReport(report);

    expect(html).not.toContain('<img');
    expect(html).not.toContain('"><img');
    // A state the page does not know is not carried as text at all: the grid holds state indexes.
    expect(html).not.toContain('onerror=alert(1)>');
    expect(html).toContain('data-total-state="protected">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</td>');
  });
});

/**
 * `readLatestCells`: latest.json read line by line in the layout the report writer writes, keeping
 * only the cells of some features (what an EKS sweep reads at 10,000 accounts without holding the
 * document; bench/eks-coverage-feed.bench.ts measures its memory).
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { cellWithoutItems, writeReportJson } from '../../src/coverage/report-json.js';
import { readLatestCells } from '../../src/coverage/latest-cells.js';
import type { CoverageReport, CoverageSummary } from '../../src/coverage/model.js';
import { sampleReport } from './publish-fixture.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

/** The summary as latest.json stores it: cells without items, the details' location in the tail. */
function storedSummary(report: CoverageReport): CoverageSummary {
  return {
    ...report,
    cells: report.cells.map((c) => cellWithoutItems(c)),
    details: { layout: 'per-account', prefix: 'reports/2026/11/29/x/accounts/' },
  };
}

async function written(summary: CoverageSummary): Promise<string> {
  let text = '';
  await writeReportJson(summary, undefined, (chunk) => {
    text += chunk;
  });
  return text;
}

/** The body as the SDK gives it in Node.js: a stream, here in small pieces that split lines. */
const streamed = (text: string) => ({
  Body: Object.assign(Readable.from(text.match(/[\s\S]{1,37}/g) ?? []), {
    transformToString: () => Promise.resolve(text),
  }),
});

describe('latest.json read line by line', () => {
  it('keeps the cells of the features asked for, and everything else as stored', async () => {
    const report = sampleReport();
    const eks = { ...report.cells[0], feature: 'eksProtection' as const, state: 'partial' as const };
    const summary = storedSummary({
      ...report,
      scope: { ...report.scope, features: [...report.scope.features, 'eksProtection'] },
      cells: [...report.cells, eks, { ...eks, region: 'us-east-1', state: 'protected' }],
    });
    const text = await written(summary);
    s3.on(GetObjectCommand, { Bucket: 'reports', Key: 'latest.json' }).callsFake(() => streamed(text));

    const read = await readLatestCells(new S3Client({}), 'reports', ['eksProtection']);

    expect(read).toEqual({ ...summary, cells: summary.cells.filter((c) => c.feature === 'eksProtection') });
    expect(read.cells.map((c) => `${c.region} ${c.state}`)).toEqual([
      'eu-west-1 partial',
      'us-east-1 protected',
    ]);
    // Every feature asked for: the whole summary back.
    const all = await readLatestCells(new S3Client({}), 'reports', [
      'ssmDistributor',
      'ecrConnections',
      'eksProtection',
    ]);
    expect(all).toEqual(summary);
  });

  it('refuses what is not laid out that way, or not a report this version reads, naming the line', async () => {
    const summary = storedSummary(sampleReport());
    const cases: [string, RegExp][] = [
      [JSON.stringify(summary), /line 1: the header does not end with "cells":\[/],
      [JSON.stringify(summary, null, 2), /line 1: the header does not end with "cells":\[/],
      [(await written(summary)).split('\n').slice(0, 3).join('\n'), /line 3: the document ends early/],
      [(await written(summary)).replace('"state":"partial"', '"state":"shiny"'), /line 3: not a cell/],
      [
        (await written(summary)).replace('"schemaVersion":2', '"schemaVersion":1'),
        /is not a coverage report: schemaVersion/,
      ],
    ];
    for (const [text, error] of cases) {
      s3.on(GetObjectCommand).callsFake(() => streamed(text));
      await expect(readLatestCells(new S3Client({}), 'reports', ['ssmDistributor'])).rejects.toThrow(error);
    }
    // Given up at the first line: the body is not read to its end but let go.
    const abandoned = streamed((await written(summary)).replace('"cells":[', '"cells" :['));
    s3.on(GetObjectCommand).resolves(abandoned as never);
    await expect(readLatestCells(new S3Client({}), 'reports', ['ssmDistributor'])).rejects.toThrow(/line 1/);
    expect(abandoned.Body.destroyed).toBe(true);
    // Aborted while reading: the reading stops with the abort.
    const controller = new AbortController();
    const endless = new Readable({ read() {} });
    endless.push(`${(await written(summary)).split('\n')[0] ?? ''}\n`);
    s3.on(GetObjectCommand).resolves({ Body: endless } as never);
    const reading = readLatestCells(new S3Client({}), 'reports', ['ssmDistributor'], {
      signal: controller.signal,
    });
    controller.abort();
    await expect(reading).rejects.toThrow(/could not read s3:\/\/reports\/latest.json: .*abort/i);
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no such key', $metadata: {} }));
    await expect(readLatestCells(new S3Client({}), 'reports', ['ssmDistributor'])).rejects.toThrow(
      /no coverage report has been stored yet/,
    );
  });
});

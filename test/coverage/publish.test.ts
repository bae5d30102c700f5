import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  coverageMetricData,
  datedReportKey,
  publishReport,
  resourceTotals,
} from '../../src/coverage/publish.js';
import type { AccountDetails, CoverageSummary } from '../../src/coverage/model.js';
import { CoveragePublishError } from '../../src/coverage/publish-errors.js';
import { InMemoryDetails } from '../../src/coverage/report-store.js';
import { bodyText } from '../handlers/coverage-harness.js';
import { sampleReport } from './publish-fixture.js';

const s3 = mockClient(S3Client);
const cloudWatch = mockClient(CloudWatchClient);
afterEach(() => {
  s3.reset();
  cloudWatch.reset();
});

const clients = () => ({ s3: new S3Client({}), cloudWatch: new CloudWatchClient({}) });
const target = { bucket: 'coverage-bucket', namespace: 'FalconOrg/Coverage' };

/** value of one metric of one feature in a list of metric data */
function valueOf(
  data: ReturnType<typeof coverageMetricData>,
  feature: string,
  name: string,
): number | undefined {
  const datum = data.find((d) => d.MetricName === name && d.Dimensions?.[0]?.Value === feature);
  return datum?.Value;
}

describe('dated report key', () => {
  it('files a report under its UTC day with a key-safe timestamp', () => {
    expect(datedReportKey('2026-11-29T06:00:05.123Z')).toBe(
      'reports/2026/11/29/2026-11-29T06-00-05-123Z.json',
    );
    // 23:30 at UTC-5 is the next day in UTC
    expect(datedReportKey('2026-12-31T23:30:00-05:00')).toBe(
      'reports/2027/01/01/2027-01-01T04-30-00-000Z.json',
    );
  });

  it('refuses a report without a usable time', () => {
    expect(() => datedReportKey('yesterday')).toThrow(CoveragePublishError);
  });
});

describe('metric data', () => {
  it('has the cell and resource counts of each feature in scope, and none for a feature out of scope', () => {
    // Prepare
    const report = sampleReport();
    // Act
    const data = coverageMetricData(report);
    // Assess
    expect(data).toHaveLength(18);
    expect(new Set(data.map((d) => d.Dimensions?.[0]?.Value))).toEqual(
      new Set(['ssmDistributor', 'ecrConnections']),
    );
    expect(data.every((d) => d.Unit === 'Count' && d.Dimensions?.[0]?.Name === 'Feature')).toBe(true);
    expect(data.every((d) => d.Timestamp?.toISOString() === '2026-11-29T06:00:05.123Z')).toBe(true);
    const ssm = (name: string) => valueOf(data, 'ssmDistributor', name);
    expect([
      ssm('ProtectedCells'),
      ssm('PartialCells'),
      ssm('UnprotectedCells'),
      ssm('NotApplicableCells'),
      ssm('UnknownCells'),
    ]).toEqual([1, 1, 1, 1, 2]);
    expect([ssm('ProtectedResources'), ssm('UnprotectedResources'), ssm('UnknownResources')]).toEqual([
      7, 7, 0,
    ]);
    const ecr = (name: string) => valueOf(data, 'ecrConnections', name);
    expect([ecr('ProtectedCells'), ecr('UnprotectedCells'), ecr('UnknownCells')]).toEqual([2, 1, 3]);
    expect([ecr('ProtectedResources'), ecr('UnprotectedResources'), ecr('UnknownResources')]).toEqual([
      2, 1, 1,
    ]);
  });

  it('sums resources only over the cells of the feature', () => {
    expect(resourceTotals(sampleReport(), 'eksProtection')).toEqual({
      protected: 0,
      partial: 0,
      unprotected: 0,
      unknown: 0,
    });
  });
});

describe('publishReport', () => {
  it("writes each account's details, the dated copy, latest.html, then latest.json, and the metrics in batches of 20", async () => {
    // Prepare: S3 reads each body as it is sent (streams cannot be read afterwards)
    const sent: string[] = [];
    s3.on(PutObjectCommand).callsFake(async (input: { Body?: unknown }) => {
      sent.push(await bodyText(input.Body));
      return {};
    });
    cloudWatch.on(PutMetricDataCommand).resolves({});
    const report = sampleReport();
    // Act
    const result = await publishReport(report, new InMemoryDetails(report), target, clients());
    // Assess
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    const prefix = 'reports/2026/11/29/2026-11-29T06-00-05-123Z/accounts/';
    expect(puts.map((p) => [p.Bucket, p.Key, p.ContentType, p.CacheControl])).toEqual([
      ...report.accounts.map((a) => [
        'coverage-bucket',
        `${prefix}${a.id}.json`,
        'application/json',
        undefined,
      ]),
      ['coverage-bucket', 'reports/2026/11/29/2026-11-29T06-00-05-123Z.json', 'application/json', undefined],
      ['coverage-bucket', 'latest.html', 'text/html; charset=utf-8', 'no-cache'],
      ['coverage-bucket', 'latest.json', 'application/json', 'no-cache'],
    ]);
    const body = (i: number): string => sent.at(i) ?? '';
    // latest.json: the summary (no items), pointing at the details beside it.
    const latest = JSON.parse(body(-1)) as CoverageSummary;
    expect(latest).toEqual({
      ...report,
      cells: report.cells.map(({ items: _items, ...c }) => c),
      details: { layout: 'per-account', prefix },
    });
    expect(body(-3)).toBe(body(-1));
    // Each account's details hold the items of its cells.
    const first = JSON.parse(body(0)) as AccountDetails;
    expect(first.account.id).toBe(report.accounts[0]?.id);
    expect(first.cells).toEqual(
      report.cells
        .filter((c) => c.accountId === first.account.id)
        .map((c) => ({ feature: c.feature, region: c.region, items: c.items })),
    );
    expect(body(-2)).toMatch(/^<!doctype html>/);
    const metricCalls = cloudWatch.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input);
    expect(metricCalls.map((c) => [c.Namespace, c.MetricData?.length])).toEqual([['FalconOrg/Coverage', 18]]);
    expect(result).toEqual({
      keys: puts.map((p) => p.Key),
      metrics: 18,
    });
  });

  it('sends the summary and the heatmap from files, as streams with their length: never one buffer of the report', async () => {
    // Prepare
    const bodies: { key: string; stream: boolean; length?: number; bytes: number }[] = [];
    s3.on(PutObjectCommand).callsFake(
      async (input: { Key?: string; Body?: unknown; ContentLength?: number }) => {
        const text = await bodyText(input.Body);
        bodies.push({
          key: input.Key ?? '',
          stream: input.Body instanceof Readable,
          ...(input.ContentLength !== undefined ? { length: input.ContentLength } : {}),
          bytes: Buffer.byteLength(text),
        });
        return {};
      },
    );
    cloudWatch.on(PutMetricDataCommand).resolves({});
    const spoolDir = mkdtempSync(join(tmpdir(), 'falcon-org-publish-test-'));
    const report = sampleReport();
    try {
      // Act
      await publishReport(report, new InMemoryDetails(report), { ...target, spoolDir }, clients());
      // Assess: the three report documents were streamed with their exact length; nothing is left behind
      const documents = bodies.filter((b) => !b.key.includes('/accounts/'));
      expect(documents.map((b) => b.key)).toEqual([
        'reports/2026/11/29/2026-11-29T06-00-05-123Z.json',
        'latest.html',
        'latest.json',
      ]);
      for (const d of documents) {
        expect(d.stream).toBe(true);
        expect(d.length).toBe(d.bytes);
        expect(d.bytes).toBeGreaterThan(0);
      }
      expect(readdirSync(spoolDir)).toEqual([]);
    } finally {
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });

  it('splits more than 20 metrics over several requests', async () => {
    s3.on(PutObjectCommand).resolves({});
    cloudWatch.on(PutMetricDataCommand).resolves({});
    const base = sampleReport();
    const report = {
      ...base,
      scope: { ...base.scope, features: ['ssmDistributor', 'ecrConnections', 'eksProtection'] as const },
    };
    const result = await publishReport(report, new InMemoryDetails(report), target, clients());
    const sizes = cloudWatch
      .commandCalls(PutMetricDataCommand)
      .map((c) => c.args[0].input.MetricData?.length);
    expect(sizes).toEqual([20, 7]);
    expect(result.metrics).toBe(27);
  });

  it('never moves latest.* past details or a dated copy that failed, still publishes the metrics, then fails with every reason', async () => {
    // Prepare: the dated copy cannot be written
    s3.on(PutObjectCommand).resolves({});
    s3.on(PutObjectCommand, { Key: 'reports/2026/11/29/2026-11-29T06-00-05-123Z.json' }).rejects(
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }),
    );
    cloudWatch.on(PutMetricDataCommand).resolves({});
    const report = sampleReport();
    // Act
    const attempt = publishReport(report, new InMemoryDetails(report), target, clients());
    // Assess
    await expect(attempt).rejects.toThrow(
      'publishing the coverage report failed: s3://coverage-bucket/reports/2026/11/29/2026-11-29T06-00-05-123Z.json: AccessDenied: Access Denied',
    );
    const keys = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys).not.toContain('latest.html');
    expect(keys).not.toContain('latest.json');
    expect(cloudWatch.commandCalls(PutMetricDataCommand)).toHaveLength(1);
  });

  it('reports a metrics failure after the reports are stored', async () => {
    s3.on(PutObjectCommand).resolves({});
    cloudWatch.on(PutMetricDataCommand).rejects(new Error('Throttling'));
    const sample = sampleReport();
    const error = await publishReport(sample, new InMemoryDetails(sample), target, clients()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CoveragePublishError);
    expect((error as Error).message).toBe(
      'publishing the coverage report failed: metrics in FalconOrg/Coverage: Error: Throttling',
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(3 + sample.accounts.length);
  });
});

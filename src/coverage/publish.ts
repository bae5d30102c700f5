/**
 * Publishing a coverage report: per account its details (the items of its cells) under the run's
 * dated prefix, the summary (`latest.json` and its dated copy, pointing at those details), the
 * heatmap (`latest.html`) and per-feature CloudWatch metrics. The metric data is computed by pure
 * functions; the writes go through the S3 and CloudWatch clients given (created once by the caller).
 *
 * @example
 * await publishReport(summary, store, { bucket, namespace }, { s3, cloudWatch });
 */
import {
  PutMetricDataCommand,
  StandardUnit,
  type CloudWatchClient,
  type MetricDatum,
} from '@aws-sdk/client-cloudwatch';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mapEachOutcome } from '../fanout/concurrency.js';
import { fileSink } from './file-sink.js';
import { writeHtmlReport } from './html.js';
import {
  COVERAGE_FEATURES,
  type CellSummary,
  type CoverageFeature,
  type CoverageState,
  type CoverageSummary,
  type ItemState,
} from './model.js';
import { CoveragePublishError } from './publish-errors.js';
import { writeReportJson } from './report-json.js';
import type { DetailsSource } from './report-store.js';

/** Object keys in the report bucket. */
export const REPORT_KEYS = {
  latestJson: 'latest.json',
  latestHtml: 'latest.html',
  /** Prefix of both `latest.*` objects (the lifecycle rule for their replaced versions). */
  latestPrefix: 'latest.',
  /** Prefix of the dated copies: `reports/YYYY/MM/DD/<timestamp>.json`. */
  datedPrefix: 'reports/',
} as const;

/** Dimension name of every coverage metric; its value is the feature (`ssmDistributor`, …). */
export const FEATURE_DIMENSION = 'Feature';

/**
 * Metric names, per feature. `*Cells` count account × region cells by state (`stateOf` in cells.ts: nothing
 * protected with some items unknown is `UnprotectedCells`, not `PartialCells`; an unreadable account is
 * `UnknownCells` even though nothing in it could be counted); `*Resources` count the instances,
 * registries and clusters inside the cells by their own state.
 */
export const COVERAGE_METRICS = {
  protectedCells: 'ProtectedCells',
  partialCells: 'PartialCells',
  unprotectedCells: 'UnprotectedCells',
  notApplicableCells: 'NotApplicableCells',
  unknownCells: 'UnknownCells',
  protectedResources: 'ProtectedResources',
  partialResources: 'PartialResources',
  unprotectedResources: 'UnprotectedResources',
  unknownResources: 'UnknownResources',
} as const;

/** PutMetricData's per-request limit on metric data in older API versions and emulators. */
export const METRICS_PER_REQUEST = 20;

/** `reports/YYYY/MM/DD/<ISO timestamp with : and . as ->.json`, from the report's own time (UTC). */
export function datedReportKey(generatedAt: string): string {
  return `${datedStem(generatedAt)}.json`;
}

/** `reports/YYYY/MM/DD/<timestamp>/accounts/`: where the run's per-account details are. */
export function detailsPrefix(generatedAt: string): string {
  return `${datedStem(generatedAt)}/accounts/`;
}

function datedStem(generatedAt: string): string {
  const time = new Date(generatedAt);
  if (Number.isNaN(time.getTime())) {
    throw new CoveragePublishError(`report generatedAt "${generatedAt}" is not a date`);
  }
  const iso = time.toISOString();
  const [year, month, day] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
  return `${REPORT_KEYS.datedPrefix}${year}/${month}/${day}/${iso.replace(/[:.]/g, '-')}`;
}

/** Details objects written at once. */
const DETAILS_CONCURRENCY = 8;

/** How many resources of one feature are in each item state, summed over its cells. */
export function resourceTotals(
  report: { readonly cells: readonly CellSummary[] },
  feature: CoverageFeature,
): Record<Exclude<ItemState, 'not-applicable'>, number> {
  const totals = { protected: 0, partial: 0, unprotected: 0, unknown: 0 };
  for (const cell of report.cells) {
    if (cell.feature !== feature) continue;
    totals.protected += cell.counts.protected;
    // A stored report written before clusters could be partly protected has no count.
    totals.partial += (cell.counts as Partial<typeof cell.counts>).partial ?? 0;
    totals.unprotected += cell.counts.unprotected;
    totals.unknown += cell.counts.unknown;
  }
  return totals;
}

/** How many cells of one feature are in each state, counted from the cells. */
export function cellTotals(
  report: { readonly cells: readonly CellSummary[] },
  feature: CoverageFeature,
): Record<CoverageState, number> {
  const totals: Record<CoverageState, number> = {
    protected: 0,
    partial: 0,
    unprotected: 0,
    'not-applicable': 0,
    unknown: 0,
  };
  for (const cell of report.cells) if (cell.feature === feature) totals[cell.state] += 1;
  return totals;
}

/** The metric data of a report: for each feature in its scope, every metric of {@link COVERAGE_METRICS}. */
export function coverageMetricData(report: CoverageSummary): MetricDatum[] {
  const timestamp = new Date(report.generatedAt);
  const features = COVERAGE_FEATURES.filter((f) => report.scope.features.includes(f));
  return features.flatMap((feature) => {
    const cells = report.totals[feature] ?? cellTotals(report, feature);
    const resources = resourceTotals(report, feature);
    const m = COVERAGE_METRICS;
    const values: [string, number][] = [
      [m.protectedCells, cells.protected],
      [m.partialCells, cells.partial],
      [m.unprotectedCells, cells.unprotected],
      [m.notApplicableCells, cells['not-applicable']],
      [m.unknownCells, cells.unknown],
      [m.protectedResources, resources.protected],
      [m.partialResources, resources.partial],
      [m.unprotectedResources, resources.unprotected],
      [m.unknownResources, resources.unknown],
    ];
    return values.map(([name, value]) => ({
      MetricName: name,
      Dimensions: [{ Name: FEATURE_DIMENSION, Value: feature }],
      Timestamp: timestamp,
      Unit: StandardUnit.Count,
      Value: value,
    }));
  });
}

export interface PublishTarget {
  readonly bucket: string;
  readonly namespace: string;
  /**
   * Where the summary and the heatmap are written before they are sent (each a file, sent as a
   * stream: neither is ever one buffer in memory). @default the system's temporary directory
   */
  readonly spoolDir?: string;
}

export interface PublishClients {
  readonly s3: Pick<S3Client, 'send'>;
  readonly cloudWatch: Pick<CloudWatchClient, 'send'>;
}

export interface PublishResult {
  /** Keys written, in order. */
  readonly keys: readonly string[];
  readonly metrics: number;
}

/**
 * Writes the run's per-account details, then the dated copy of the summary, then `latest.html`, then
 * `latest.json` (last, so `status --latest` never sees a summary whose details or dated copy are
 * missing), and publishes the metrics. Metrics are published even when a write failed (alarms must
 * keep working); any failure is thrown afterwards with all reasons.
 */
export async function publishReport(
  summary: CoverageSummary,
  details: DetailsSource,
  target: PublishTarget,
  clients: PublishClients,
  signal?: AbortSignal,
): Promise<PublishResult> {
  const failures: string[] = [];
  const keys: string[] = [];
  let cause: unknown;
  const put = async (key: string, body: string | SpooledFile, type: string): Promise<boolean> => {
    try {
      const content =
        typeof body === 'string' ? { Body: body } : { Body: body.open(), ContentLength: body.bytes };
      await clients.s3.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: key,
          ...content,
          ContentType: type,
          ...(key.startsWith(REPORT_KEYS.latestPrefix) ? { CacheControl: 'no-cache' } : {}),
        }),
        { abortSignal: signal },
      );
      keys.push(key);
      return true;
    } catch (error) {
      cause ??= error;
      failures.push(`s3://${target.bucket}/${key}: ${describe(error)}`);
      return false;
    }
  };
  const prefix = detailsPrefix(summary.generatedAt);
  const stored: CoverageSummary = { ...summary, details: { layout: 'per-account', prefix } };
  // Every account's details first: the summary that points at them is written only once they are there.
  const written = await mapEachOutcome(
    summary.accounts,
    DETAILS_CONCURRENCY,
    async (account) => {
      const text = await details.accountDetails(account.id, summary.generatedAt);
      return text === undefined || (await put(`${prefix}${account.id}.json`, text, 'application/json'));
    },
    () => false,
    signal,
  );
  if (written.every(Boolean)) {
    const spool = await mkdtemp(join(target.spoolDir ?? tmpdir(), 'falcon-org-publish-'));
    try {
      const json = await spoolTo(join(spool, 'summary.json'), (write) =>
        writeReportJson(stored, undefined, write),
      );
      // A later object must not claim a report its predecessor failed to store.
      if (await put(datedReportKey(summary.generatedAt), json, 'application/json')) {
        const html = await spoolTo(join(spool, 'latest.html'), (write) =>
          writeHtmlReport(summary, details, write),
        );
        if (await put(REPORT_KEYS.latestHtml, html, 'text/html; charset=utf-8')) {
          await put(REPORT_KEYS.latestJson, json, 'application/json');
        }
      }
    } finally {
      await rm(spool, { recursive: true, force: true });
    }
  }
  const data = coverageMetricData(summary);
  let metrics = 0;
  for (let i = 0; i < data.length; i += METRICS_PER_REQUEST) {
    const batch = data.slice(i, i + METRICS_PER_REQUEST);
    try {
      await clients.cloudWatch.send(
        new PutMetricDataCommand({ Namespace: target.namespace, MetricData: batch }),
        { abortSignal: signal },
      );
      metrics += batch.length;
    } catch (error) {
      cause ??= error;
      failures.push(`metrics in ${target.namespace}: ${describe(error)}`);
    }
  }
  if (failures.length > 0) {
    throw new CoveragePublishError(`publishing the coverage report failed: ${failures.join('; ')}`, {
      cause,
    });
  }
  return { keys, metrics };
}

/** A document written to a file: sent as a new stream each time, with its length. */
interface SpooledFile {
  readonly bytes: number;
  open(): Readable;
}

/** What a writer writes, into a file; objects are then sent from it with their length. */
async function spoolTo(
  path: string,
  produce: (write: (chunk: string) => Promise<void>) => Promise<void>,
): Promise<SpooledFile> {
  const file = fileSink(path);
  try {
    await produce((chunk) => file.write(chunk));
  } finally {
    await file.close();
  }
  const { size } = await stat(path);
  return { bytes: size, open: () => createReadStream(path) };
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

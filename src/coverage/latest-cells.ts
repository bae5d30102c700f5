/**
 * `latest.json` read line by line, keeping only the cells of some features: what an EKS sweep needs
 * of a report (src/coverage/eks-feed.ts) without holding the document. At 10,000 accounts × 17
 * regions the document is about 173 MiB and `JSON.parse` of it needs about 700 MiB, more than the
 * discover function has. It reads the layout `writeReportJson` writes (src/coverage/report-json.ts):
 * the header on the first line, ending `"cells":[`; one cell per line; then a line `],"totals":…}`.
 */
import { addAbortSignal, type Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { S3Client } from '@aws-sdk/client-s3';
import { openLatest, type LatestOptions } from './latest.js';
import type { CellSummary, CoverageFeature, CoverageSummary } from './model.js';
import { LatestReportError } from './publish-errors.js';
import { REPORT_KEYS } from './publish.js';
import { checkStoredReport, storedCellSchema } from './stored-report.js';

const CELLS_OPEN = '"cells":[';

/**
 * The summary of `latest.json` with only the cells of `features` (every account, region and total
 * as stored). Rejects with a `LatestReportError` when the report is missing, not in that layout, or
 * not one this version reads.
 */
export async function readLatestCells(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  features: readonly CoverageFeature[],
  options: Pick<LatestOptions, 'functionName' | 'signal'> = {},
): Promise<CoverageSummary> {
  const where = `s3://${bucket}/${REPORT_KEYS.latestJson}`;
  const document = await openLatest(s3, bucket, options, async (body) => {
    if (!isReadable(body)) throw new LatestReportError(`${where}: the body is not a stream`);
    // Aborting stops the reading too, and a document given up early gives its connection back.
    if (options.signal) addAbortSignal(options.signal, body);
    try {
      return await cellsOf(body, features, where);
    } finally {
      body.destroy();
    }
  });
  const { report, problems } = checkStoredReport(document);
  if (report === undefined)
    throw new LatestReportError(`${where} is not a coverage report: ${problems.join('; ')}`);
  return report;
}

/** Reads the document's lines; the parts as one object, with the kept cells. */
async function cellsOf(
  body: Readable,
  features: readonly CoverageFeature[],
  where: string,
): Promise<Record<string, unknown>> {
  const marks = features.map((f) => `"feature":${JSON.stringify(f)}`);
  const wanted = new Set<string>(features);
  const cells: CellSummary[] = [];
  let head: Record<string, unknown> | undefined;
  let tail: Record<string, unknown> | undefined;
  let line = 0;
  const notLaidOut = (why: string) =>
    new LatestReportError(
      `${where} is not laid out as falcon-org writes it (line ${line}: ${why}); the next coverage run writes it again`,
    );
  for await (const text of createInterface({ input: body, crlfDelay: Infinity })) {
    line += 1;
    if (head === undefined) {
      if (!text.endsWith(CELLS_OPEN)) throw notLaidOut(`the header does not end with ${CELLS_OPEN}`);
      head = parsed(`${text}]}`, notLaidOut);
      continue;
    }
    if (tail !== undefined) {
      if (text.trim() === '') continue;
      throw notLaidOut('text after the end of the document');
    }
    if (text.startsWith('],')) {
      tail = parsed(`{${text.slice(2)}`, notLaidOut);
      continue;
    }
    if (text === '') continue;
    // Cells of other features are skipped before they are parsed.
    if (!marks.some((m) => text.includes(m))) continue;
    const value = parsed(text.endsWith(',') ? text.slice(0, -1) : text, notLaidOut);
    const cell = storedCellSchema.safeParse(value);
    if (!cell.success) throw notLaidOut(`not a cell: ${cell.error.issues[0]?.message ?? ''}`);
    if (wanted.has(cell.data.feature)) cells.push(cell.data as unknown as CellSummary);
  }
  if (head === undefined || tail === undefined) throw notLaidOut('the document ends early');
  return { ...head, cells, ...tail };
}

function parsed(text: string, fail: (why: string) => Error): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw fail('not JSON');
}

function isReadable(body: unknown): body is Readable {
  return (
    typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function' &&
    typeof (body as { on?: unknown }).on === 'function'
  );
}

/**
 * `falcon-org status --latest`: the last report the scheduled `coverage` function stored, read from
 * its bucket without reading the organization again: `latest.json` (the summary) and, for the accounts
 * asked for with `--account`, their details beside it. The bucket is found through the root stack's
 * output `CoverageReportBucket`, else the SSM parameter the stack writes
 * (`/<resourcePrefix>/coverage/report-bucket`, home region), or named directly.
 *
 * @example
 * const report = await loadLatestReport({ ssm, s3 }, { resourcePrefix: config.resourcePrefix });
 */
import { GetObjectCommand, NoSuchKey, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { createClient } from '../aws/clients.js';
import { coverageNames, ROOT_STACK_OUTPUTS, rootStackName } from '../config/names.js';
import { totalsOf } from './cells.js';
import { rootStackOutputs } from './deployed.js';
import { CoverageInputError } from './errors.js';
import {
  COVERAGE_SCHEMA_VERSION,
  type AccountDetails,
  type CellSummary,
  type CoverageCell,
  type CoverageSummary,
} from './model.js';
import { InMemoryDetails, type DetailsSource } from './report-store.js';
import { LatestReportError } from './publish-errors.js';
import { REPORT_KEYS } from './publish.js';
import { checkStoredReport } from './stored-report.js';

/** Name of the SSM parameter (home account and region) holding the report bucket's name. */
export function reportBucketParameterName(resourcePrefix: string): string {
  return coverageNames({ resourcePrefix }).reportBucketParameter;
}

export interface LatestClients {
  readonly ssm: Pick<SSMClient, 'send'>;
  readonly s3: Pick<S3Client, 'send'>;
  /** Reads the root stack's outputs (the bucket's first address). @default - the SSM parameter only */
  readonly cloudFormation?: Pick<CloudFormationClient, 'send'>;
}

export interface LatestOptions {
  readonly resourcePrefix: string;
  /** Skip the lookup. */
  readonly bucket?: string;
  /** Also read these accounts' details (the items of their cells). */
  readonly accounts?: readonly string[];
  /** The function's name, for the hint when nothing is stored yet. */
  readonly functionName?: string;
  readonly signal?: AbortSignal;
}

/** Where the latest report came from, with the report. */
export interface LatestReport {
  readonly bucket: string;
  readonly key: string;
  readonly report: CoverageSummary;
  /** The details of the accounts asked for. */
  readonly details?: DetailsSource;
}

/**
 * For the CLI: SSM and S3 clients in the home region (credentials from the SDK's default chain,
 * endpoints from its own settings), then {@link loadLatestReport}.
 */
export async function loadLatestReportFor(
  config: { readonly resourcePrefix: string; readonly aws: { readonly homeRegion: string } },
  options: Omit<LatestOptions, 'resourcePrefix'> = {},
): Promise<LatestReport> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { SSMClient } = await import('@aws-sdk/client-ssm');
  const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
  const settings = { region: config.aws.homeRegion };
  const clients = {
    ssm: createClient(SSMClient, settings),
    s3: createClient(S3Client, settings),
    cloudFormation: createClient(CloudFormationClient, settings),
  };
  try {
    return await loadLatestReport(clients, {
      functionName: coverageNames(config).function,
      ...options,
      resourcePrefix: config.resourcePrefix,
    });
  } finally {
    clients.ssm.destroy();
    clients.s3.destroy();
    clients.cloudFormation.destroy();
  }
}

/** Finds the bucket (unless given), reads `latest.json` and the details of the accounts asked for. */
export async function loadLatestReport(
  clients: LatestClients,
  options: LatestOptions,
): Promise<LatestReport> {
  const bucket = options.bucket ?? (await findReportBucket(clients, options));
  const report = await readLatestReport(clients.s3, bucket, options);
  return withAccountDetails(clients.s3, bucket, report, options.accounts ?? [], options);
}

/**
 * A summary already read, with the items of the given accounts' cells read from the details beside
 * it (EKS discovery reads `latest.json` once, then only the accounts whose clusters need a look).
 */
export async function withAccountDetails(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  report: CoverageSummary,
  wanted: readonly string[],
  options: Pick<LatestOptions, 'signal'> = {},
): Promise<LatestReport> {
  const clients = { s3 };
  if (wanted.length === 0 || report.details === undefined)
    return { bucket, key: REPORT_KEYS.latestJson, report };
  const prefix = report.details.prefix;
  const known = new Set(report.accounts.map((a) => a.id));
  const cells: CoverageCell[] = [];
  // The summary's cells by account, read once (not once per account asked for).
  const asked = new Set(wanted);
  const ofAccount = new Map<string, CellSummary[]>();
  for (const c of report.cells) {
    if (!asked.has(c.accountId)) continue;
    const list = ofAccount.get(c.accountId);
    if (list === undefined) ofAccount.set(c.accountId, [c]);
    else list.push(c);
  }
  for (const id of wanted.filter((a) => known.has(a))) {
    const doc = JSON.parse(
      await openObject(clients.s3, bucket, `${prefix}${id}.json`, options, (body) =>
        body.transformToString('utf-8'),
      ),
    ) as AccountDetails;
    const items = new Map(doc.cells.map((c) => [`${c.feature}@${c.region}`, c.items]));
    for (const c of ofAccount.get(id) ?? []) {
      cells.push({ ...c, items: items.get(`${c.feature}@${c.region}`) ?? [] });
    }
  }
  // The summary's cells of those accounts, now with their items.
  const withItems = new Map(cells.map((c) => [`${c.feature}@${c.accountId}@${c.region}`, c]));
  const merged: CellSummary[] = report.cells.map(
    (c) => withItems.get(`${c.feature}@${c.accountId}@${c.region}`) ?? c,
  );
  const full = { ...report, cells: merged };
  return {
    bucket,
    key: REPORT_KEYS.latestJson,
    report: full,
    details: new InMemoryDetails({ accounts: report.accounts, cells }),
  };
}

/** The root stack's output first (what was deployed), then the SSM parameter the stack writes. */
async function findReportBucket(clients: LatestClients, options: LatestOptions): Promise<string> {
  if (clients.cloudFormation !== undefined) {
    const found = await rootStackOutputs(clients.cloudFormation, rootStackName(options));
    const bucket = 'outputs' in found ? found.outputs[ROOT_STACK_OUTPUTS.reportBucket] : undefined;
    if (bucket !== undefined && bucket !== '') return bucket;
  }
  return locateReportBucket(clients.ssm, options.resourcePrefix, options.signal);
}

/** The report bucket's name from the stack's SSM parameter. */
export async function locateReportBucket(
  ssm: Pick<SSMClient, 'send'>,
  resourcePrefix: string,
  signal?: AbortSignal,
): Promise<string> {
  const name = reportBucketParameterName(resourcePrefix);
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name }), { abortSignal: signal });
    const value = out.Parameter?.Value?.trim();
    if (!value) throw new LatestReportError(`SSM parameter ${name} is empty`);
    return value;
  } catch (error) {
    if (error instanceof ParameterNotFound || (error as { name?: string }).name === 'ParameterNotFound') {
      throw new LatestReportError(
        `no coverage report bucket is recorded (SSM parameter ${name} not found in this account and region): deploy with coverage.enabled: true, or run status without --latest`,
        { cause: error },
      );
    }
    if (error instanceof LatestReportError) throw error;
    throw new LatestReportError(`could not read SSM parameter ${name}: ${describe(error)}`, { cause: error });
  }
}

/** Reads and checks `latest.json` of a bucket. */
export async function readLatestReport(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  options: Pick<LatestOptions, 'functionName' | 'signal'> = {},
): Promise<CoverageSummary> {
  const where = `s3://${bucket}/${REPORT_KEYS.latestJson}`;
  const text = await openLatest(s3, bucket, options, (body) => body.transformToString('utf-8'));
  return parseStoredReport(text, where);
}

/**
 * Gets `latest.json` and hands its body to `read`; a missing report, an empty body or a failed read
 * become a `LatestReportError` that says what to do.
 */
export function openLatest<T>(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  options: Pick<LatestOptions, 'functionName' | 'signal'>,
  read: (body: ObjectBody) => Promise<T>,
): Promise<T> {
  return openObject(s3, bucket, REPORT_KEYS.latestJson, options, read, (where, error) => {
    const fn = options.functionName ?? '<resourcePrefix>-coverage';
    return new LatestReportError(
      `no coverage report has been stored yet (${where} does not exist): wait for the schedule or run one now with "aws lambda invoke --function-name ${fn} --invocation-type Event /dev/null"`,
      { cause: error },
    );
  });
}

type ObjectBody = NonNullable<GetObjectCommandOutput['Body']>;

/** Gets an object of the report bucket and hands its body to `read`; failures as `LatestReportError`. */
async function openObject<T>(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  key: string,
  options: Pick<LatestOptions, 'signal'>,
  read: (body: ObjectBody) => Promise<T>,
  missing?: (where: string, error: unknown) => LatestReportError,
): Promise<T> {
  const where = `s3://${bucket}/${key}`;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
      abortSignal: options.signal,
    });
    if (!out.Body) throw new LatestReportError(`${where} is empty`);
    return await read(out.Body);
  } catch (error) {
    if (error instanceof LatestReportError) throw error;
    const notFound = error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey';
    if (notFound && missing !== undefined) throw missing(where, error);
    throw new LatestReportError(`could not read ${where}: ${describe(error)}`, { cause: error });
  }
}

/** Parses a stored report and checks it is one this version can show. */
export function parseStoredReport(text: string, where: string): CoverageSummary {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new LatestReportError(`${where} is not JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null) {
    throw new LatestReportError(`${where} is not a coverage report`);
  }
  const r = value as Partial<Record<keyof CoverageSummary, unknown>>;
  if (r.schemaVersion !== COVERAGE_SCHEMA_VERSION) {
    throw new LatestReportError(
      `${where} has report schema version ${JSON.stringify(r.schemaVersion)}; this falcon-org reads version ${COVERAGE_SCHEMA_VERSION} (use the falcon-org version the function runs)`,
    );
  }
  const { report, problems } = checkStoredReport(value);
  if (report === undefined) {
    throw new LatestReportError(
      `${where} is not a complete coverage report: ${problems.join('; ')} (it cannot be shown; let the coverage function store a new one, or run status without --latest)`,
    );
  }
  return report;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The stored report narrowed to some features and accounts (`status --latest --feature … --account …`),
 * with totals and `allProtected` recomputed. Asking for what the stored report does not hold is bad input.
 */
export function narrowReport(
  report: CoverageSummary,
  filter: { readonly features?: readonly string[]; readonly accounts?: readonly string[] },
): CoverageSummary {
  const problems: string[] = [];
  const features = filter.features ?? report.scope.features;
  const missingFeatures = features.filter((f) => !report.scope.features.some((g) => g === f));
  if (missingFeatures.length > 0) {
    problems.push(
      `--feature ${missingFeatures.join(', ')}: not in the stored report (it has ${report.scope.features.join(', ')})`,
    );
  }
  const known = new Set(report.accounts.map((a) => a.id));
  const missingAccounts = (filter.accounts ?? []).filter((a) => !known.has(a));
  if (missingAccounts.length > 0) {
    problems.push(`--account ${missingAccounts.join(', ')}: not in the stored report`);
  }
  if (problems.length > 0) throw new CoverageInputError(problems.join('; '));
  if (filter.features === undefined && filter.accounts === undefined) return report;
  const wantedAccounts = filter.accounts === undefined ? undefined : new Set(filter.accounts);
  const keptFeatures = report.scope.features.filter((f) => features.includes(f));
  const cells = report.cells.filter(
    (c) =>
      keptFeatures.includes(c.feature) && (wantedAccounts === undefined || wantedAccounts.has(c.accountId)),
  );
  return {
    ...report,
    scope: {
      ...report.scope,
      features: keptFeatures,
      ...(filter.accounts !== undefined ? { accountFilter: [...filter.accounts] } : {}),
    },
    accounts: report.accounts.filter((a) => wantedAccounts === undefined || wantedAccounts.has(a.id)),
    regions: [...new Set(cells.map((c) => c.region))].sort(),
    cells,
    totals: totalsOf(cells),
    allProtected: cells.every((c) => c.state === 'protected' || c.state === 'not-applicable'),
  };
}

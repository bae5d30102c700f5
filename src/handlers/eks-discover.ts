/**
 * `eks-discover`: finds every cluster of the organization, records a verdict per cluster and starts a
 * deployer run for each eligible one. Three triggers, one core (runDiscovery):
 * - the CloudFormation custom resource at deploy time: always answered SUCCESS (discovery failures are
 *   reported in the answer and the log, never fatal to the stack); Delete does nothing;
 * - an EventBridge schedule: the same sweep, repairing whatever was missed;
 * - the discovery SQS queue: batches of accounts a previous invocation could not start in time
 *   (partial batch response: only messages whose accounts could not be handed on are retried).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { readCoverageSignals, type CoverageSignals } from '../coverage/eks-feed.js';
import {
  createEksHomeClients,
  createEksServices,
  type EksHomeClients,
  type EksServices,
} from '../eks/aws-deps.js';
import { parseDiscoveryBatch } from '../eks/discovery-queue.js';
import { readEksEnvironment, rolloutSettings, type EksEnvironment } from './shared/eks-environment.js';
import { EksError } from '../eks/errors.js';
import { summarize, type DiscoveryReport } from '../eks/report.js';
import { runDiscovery, type DiscoveryInput, type DiscoveryRun } from '../eks/run-discovery.js';
import {
  buildResponse,
  isCustomResourceEvent,
  sendResponseBeforeDeadline,
  withDeadline,
  type CustomResourceEvent,
  type SendOptions,
} from './shared/custom-resource.js';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { HAND_ON_RESERVE, invocationBudget, type Reserve } from './shared/budget.js';
import { isScheduledEvent, type LambdaContext } from './shared/lambda.js';
import { createHandlerLogger, withInvocationLog, type HandlerLogger } from './shared/logger.js';
import { describeError } from '../shared/describe-error.js';

/** The parts of an SQS record (`@types/aws-lambda`) the queue consumer reads. */
export type SqsRecord = Readonly<
  Pick<SQSRecord, 'messageId' | 'body'> & Partial<Pick<SQSRecord, 'eventSource'>>
>;

export interface EksDiscoverHandlerOptions {
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Builds the adapters; default: SDK clients created once per module. */
  readonly services?: (env: EksEnvironment) => EksServices;
  readonly send?: SendOptions;
  /**
   * How much of the remaining time is kept back when deciding to stop starting accounts (the ones in
   * flight must still finish, the rest be queued and CloudFormation answered).
   * @default HAND_ON_RESERVE: max(30 s, a quarter of the remaining time)
   */
  readonly reserveMs?: Reserve;
}

let moduleClients: EksHomeClients | undefined;
let moduleS3: S3Client | undefined;

function defaultServices(env: EksEnvironment): EksServices {
  moduleClients ??= createEksHomeClients(env.settings.homeRegion);
  return createEksServices(env, moduleClients, 'falcon-org-eks-discover');
}

export function createEksDiscoverHandler(options: EksDiscoverHandlerOptions = {}) {
  const services = options.services ?? defaultServices;
  const reserve = options.reserveMs ?? HAND_ON_RESERVE;
  const logger = createHandlerLogger('falcon-org-eks-discover');

  async function discover(input: DiscoveryInput, context: LambdaContext): Promise<DiscoveryRun> {
    const env = readEksEnvironment(options.env ?? process.env);
    const deps = services(env);
    const s = env.settings;
    const stop = new AbortController();
    const timer = setTimeout(
      () => stop.abort(new Error('time to hand on')),
      invocationBudget(context, reserve).workMs,
    );
    try {
      // The closed loop: a sweep rebuilds the clusters the latest coverage report says do not report.
      const coverage =
        input.kind === 'sweep' && env.coverageReportBucket !== undefined
          ? await coverageSignals(logger, env.coverageReportBucket, s.homeRegion, stop.signal)
          : undefined;
      const run = await runDiscovery(
        input,
        { ...deps, scope: () => deps.scope.scope() },
        {
          regions: s.regions,
          concurrency: s.concurrency,
          ...(s.minKubernetesVersion ? { minKubernetesVersion: s.minKubernetesVersion } : {}),
          ...(s.accountsPerMessage ? { accountsPerMessage: s.accountsPerMessage } : {}),
          ...rolloutSettings(env),
          ...(coverage ? { coverage: coverage.signal } : {}),
        },
        stop.signal,
      );
      logReport(logger, input.kind, run);
      return run;
    } finally {
      clearTimeout(timer);
    }
  }

  return withInvocationLog(logger, async (event: unknown, context: LambdaContext): Promise<unknown> => {
    if (isCustomResourceEvent(event)) {
      await onCustomResource(logger, event, context, discover, options.send);
      return undefined;
    }
    if (isScheduledEvent(event)) {
      const run = await discover({ kind: 'sweep' }, context);
      if (run.stopped !== undefined) return { stopped: run.stopped };
      return {
        summary: summarize(run.report),
        counts: run.report.counts,
        queuedAccounts: run.queuedAccounts,
      };
    }
    if (isSqsEvent(event)) return onQueue(logger, event.Records, context, discover);
    throw new EksError(
      'unsupported event: expected a CloudFormation custom resource request, a scheduled event or SQS messages',
    );
  });
}

type Discover = (input: DiscoveryInput, context: LambdaContext) => Promise<DiscoveryRun>;

/**
 * What the latest coverage report says about the clusters' nodes. A report that is missing or cannot
 * be read means no repairs this sweep (logged), never a failed sweep.
 */
async function coverageSignals(
  logger: HandlerLogger,
  bucket: string,
  homeRegion: string,
  signal: AbortSignal,
): Promise<CoverageSignals | undefined> {
  moduleS3 ??= new S3Client({ region: homeRegion });
  try {
    const signals = await readCoverageSignals(moduleS3, bucket, signal);
    logger.info('eks discovery read the coverage report', {
      bucket,
      generatedAt: signals.generatedAt,
      clustersToRepair: signals.repairs,
    });
    return signals;
  } catch (error) {
    logger.warn('eks discovery: no coverage repairs this sweep', {
      bucket,
      reason: `the latest coverage report could not be read: ${describeError(error)}`,
    });
    return undefined;
  }
}

async function onCustomResource(
  logger: HandlerLogger,
  event: CustomResourceEvent,
  context: LambdaContext,
  discover: Discover,
  sendOptions: SendOptions | undefined,
): Promise<void> {
  const physicalId =
    event.PhysicalResourceId ?? `falcon-org-eks-discovery-${event.StackId.split('/').pop() ?? 'stack'}`;
  let reason: string;
  let data: Record<string, string> | undefined;
  if (event.RequestType === 'Delete') {
    reason = 'nothing to do on delete (removing Falcon from clusters is a deployer run in uninstall mode)';
  } else {
    try {
      const outcome = await withDeadline(invocationBudget(context).workMs, () =>
        discover({ kind: 'sweep' }, context),
      );
      if (outcome.finished && outcome.value.stopped !== undefined) {
        reason = `discovery: ${outcome.value.stopped}`;
      } else if (outcome.finished) {
        reason = `discovery: ${summarize(outcome.value.report)}${queueNote(outcome.value)}`;
        data = Object.fromEntries(
          Object.entries(outcome.value.report.counts).map(([k, v]) => [k, String(v)]),
        );
      } else {
        reason = 'discovery did not finish before the deploy-time deadline; the schedule completes it';
      }
    } catch (error) {
      // Reported, not fatal: the stack must not fail or roll back because discovery could not run.
      reason = `discovery could not run (${describeError(error)}); the schedule retries it`;
      logger.error('eks discovery failed', { trigger: event.RequestType, error: describeError(error) });
    }
  }
  const response = buildResponse(event, 'SUCCESS', reason, physicalId, data);
  logger.info('custom resource answer', {
    requestType: event.RequestType,
    status: 'SUCCESS',
    reason: response.Reason,
  });
  await sendResponseBeforeDeadline(
    event.ResponseURL,
    response,
    context.getRemainingTimeInMillis(),
    sendOptions,
  );
}

async function onQueue(
  logger: HandlerLogger,
  records: readonly SqsRecord[],
  context: LambdaContext,
  discover: Discover,
): Promise<SQSBatchResponse> {
  const owners = new Map<string, string[]>(); // account → message IDs that asked for it
  for (const record of records) {
    const batch = parseDiscoveryBatch(record.body);
    if ('error' in batch) {
      // A message that can never succeed is dropped with a clear line, not retried into the DLQ.
      logger.warn('dropped malformed discovery message', {
        messageId: record.messageId,
        reason: batch.error,
      });
      continue;
    }
    for (const account of batch.accounts)
      owners.set(account, [...(owners.get(account) ?? []), record.messageId]);
  }
  if (owners.size === 0) return { batchItemFailures: [] };
  const run = await discover({ kind: 'batch', accounts: [...owners.keys()] }, context);
  if (!run.queueError) return { batchItemFailures: [] };
  // Unstarted accounts could not be handed on: let SQS redeliver the messages that named them.
  const failed = new Set<string>();
  for (const a of run.report.accounts)
    if (a.status === 'not-started') for (const id of owners.get(a.accountId) ?? []) failed.add(id);
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}

function isSqsEvent(event: unknown): event is { Records: SqsRecord[] } {
  if (typeof event !== 'object' || event === null) return false;
  const records = (event as { Records?: unknown }).Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    records.every(
      (r) =>
        typeof r === 'object' &&
        r !== null &&
        (r as SqsRecord).eventSource === 'aws:sqs' &&
        typeof (r as SqsRecord).messageId === 'string' &&
        typeof (r as SqsRecord).body === 'string',
    )
  );
}

function queueNote(run: DiscoveryRun): string {
  if (run.queuedAccounts > 0)
    return `; ${run.queuedAccounts} accounts handed to the discovery queue (${run.queuedMessages} messages)`;
  if (run.queueError)
    return `; unstarted accounts could not be queued (${run.queueError}), the schedule retries them`;
  return '';
}

/** The structured report: one JSON line per account, then the summary. */
function logReport(logger: HandlerLogger, trigger: string, run: DiscoveryRun): void {
  if (run.stopped !== undefined) {
    logger.warn('eks discovery stopped', { trigger, reason: run.stopped });
    return;
  }
  const report: DiscoveryReport = run.report;
  if (report.outOfScopeAccounts !== undefined)
    logger.warn('eks discovery ignored accounts out of scope', {
      trigger,
      accounts: report.outOfScopeAccounts,
      reason: 'named by a queue message but not under the targets, excluded or not ACTIVE: never entered',
    });
  for (const account of report.accounts) {
    const troubled =
      account.status !== 'ok' ||
      account.regions.some((r) => r.status === 'failed' || r.clusters.some((c) => c.status === 'failed'));
    logger[troubled ? 'warn' : 'info']('eks discovery account', { trigger, ...account });
  }
  for (const skipped of report.skippedAccounts ?? [])
    logger.info('eks discovery skipped account', {
      trigger,
      accountId: skipped.id,
      reason: skipped.reason,
      ...(skipped.state ? { state: skipped.state } : {}),
    });
  logger.info('eks discovery summary', {
    trigger,
    summary: summarize(report),
    counts: report.counts,
    throttled: report.throttled,
    durationMs: report.durationMs,
    queuedAccounts: run.queuedAccounts,
    queuedMessages: run.queuedMessages,
    ...(run.queueError ? { queueError: run.queueError } : {}),
  });
}

export const handler = createEksDiscoverHandler();

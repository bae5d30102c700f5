/**
 * `ecr-connect`: connects this account's ECR registries to Falcon. Triggered by the CloudFormation custom
 * resource (Create / Update / Delete) and by an EventBridge schedule that repairs drift. Thin: it reads the
 * event and environment, calls runEcrConnect, and always answers CloudFormation before its own timeout.
 */
import type { PartitionName } from '../config/partitions.js';
import { createEcrAwsClients, createEcrConnectDeps, type EcrAwsClients } from '../ecr/aws-deps.js';
import {
  confirmCreate,
  runEcrConnect,
  type EcrConnectDeps,
  type EcrConnectReport,
  type EcrConnectRequest,
} from '../ecr/connect.js';
import { readEcrEnvironment, type EcrEnvironment } from '../ecr/environment.js';
import { EcrError } from '../ecr/errors.js';
import { followUpFor, isFollowUpEvent, type FollowUpScheduler } from '../ecr/follow-up.js';
import { SchedulerFollowUp } from '../ecr/scheduler-follow-up.js';
import { RegionOutcome, unsuccessful, type ReconcileReport, type RegionResult } from '../ecr/outcome.js';
import { onlyPurgeOnDeleteChanged, parseProperties, type EcrConnectProperties } from '../ecr/properties.js';
import { resultData, summarizeResults } from '../ecr/report.js';
import { spreadSchedule } from '../ecr/schedule-spread.js';
import { ecrRegistryUrl } from '../ecr/urls.js';
import {
  buildResponse,
  isCustomResourceEvent,
  sendResponseBeforeDeadline,
  withDeadline,
  type CustomResourceEvent,
  type SendOptions,
} from './shared/custom-resource.js';
import { invocationBudget } from './shared/budget.js';
import { functionIdentity, isScheduledEvent, type LambdaContext } from './shared/lambda.js';
import {
  createHandlerLogger,
  logFalconEvent,
  withInvocationLog,
  type HandlerLogger,
} from './shared/logger.js';
import { RegionProgress } from '../ecr/region-progress.js';
import { describeError } from '../shared/describe-error.js';

export interface EcrConnectHandlerOptions {
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Builds the adapters; default: AWS SDK clients created once per module and the Falcon HTTP client. */
  readonly services?: (env: EcrEnvironment, partition: PartitionName) => EcrConnectDeps;
  readonly send?: SendOptions;
  /** Pause between attempts to take the run lease while a custom resource request waits. @default 2000 */
  readonly leasePollMs?: number;
  /**
   * Schedules follow-up runs for deferred regions; default: EventBridge Scheduler when the environment
   * names the schedule and its role, otherwise none.
   */
  readonly followUp?: (env: EcrEnvironment, functionArn: string) => FollowUpScheduler | undefined;
  /** @default the system clock */
  readonly now?: () => Date;
}

export interface ScheduledRunSummary {
  readonly summary: string;
  readonly results: ReconcileReport['results'];
  /** Set when the run did nothing because another run held the account's lease. */
  readonly deferred?: string;
  /** When a follow-up run for the deferred regions was scheduled (ISO 8601). */
  readonly followUpAt?: string;
}

/** Waiting for the lease leaves at least this much of the work budget for the run itself. */
const WORK_AFTER_LEASE_MS = 45_000;

let moduleClients: EcrAwsClients | undefined;

/** The function's own ARN without a version or alias (the schedule invokes $LATEST, as the rule does). */
function unqualified(functionArn: string): string {
  return functionArn.split(':').slice(0, 7).join(':');
}

function defaultFollowUp(env: EcrEnvironment, functionArn: string): FollowUpScheduler | undefined {
  if (env.followUp === undefined) return undefined;
  return new SchedulerFollowUp(
    {
      scheduleName: env.followUp.scheduleName,
      functionArn: unqualified(functionArn),
      roleArn: env.followUp.roleArn,
    },
    functionArn.split(':')[3] ?? '',
  );
}

function defaultServices(
  env: EcrEnvironment,
  partition: PartitionName,
  logger: HandlerLogger,
): EcrConnectDeps {
  moduleClients ??= createEcrAwsClients();
  return createEcrConnectDeps(
    moduleClients,
    {
      ownershipParameterName: env.ownershipParameterName,
      ...(env.logGroupName !== undefined ? { logGroupName: env.logGroupName } : {}),
    },
    partition,
    logFalconEvent(logger),
  );
}

/** Builds the handler; tests inject the environment and adapters. */
export function createEcrConnectHandler(options: EcrConnectHandlerOptions = {}) {
  const logger = createHandlerLogger('falcon-org-ecr-connect');
  const services: Services =
    options.services ?? ((env, partition) => defaultServices(env, partition, logger));
  const followUps: FollowUps = {
    make: options.followUp ?? defaultFollowUp,
    now: options.now ?? (() => new Date()),
  };
  return withInvocationLog(
    logger,
    async (event: unknown, context: LambdaContext): Promise<ScheduledRunSummary | undefined> => {
      const env = options.env ?? process.env;
      if (isCustomResourceEvent(event)) {
        await onCustomResource(
          logger,
          event,
          context,
          env,
          services,
          options.send,
          options.leasePollMs,
          followUps,
        );
        return undefined;
      }
      if (isScheduledEvent(event))
        return onSchedule(logger, context, env, services, options.leasePollMs, followUps, 0);
      if (isFollowUpEvent(event)) {
        return onSchedule(
          logger,
          context,
          env,
          services,
          options.leasePollMs,
          followUps,
          event.detail.attempt,
        );
      }
      throw new EcrError(
        'unsupported event: expected a CloudFormation custom resource request, a scheduled event or a follow-up run',
      );
    },
  );
}

type Services = NonNullable<EcrConnectHandlerOptions['services']>;

interface Setup {
  readonly accountId: string;
  readonly partition: PartitionName;
  readonly env: EcrEnvironment;
  readonly deps: EcrConnectDeps;
  readonly functionArn: string;
}

interface FollowUps {
  readonly make: NonNullable<EcrConnectHandlerOptions['followUp']>;
  readonly now: () => Date;
}

/**
 * Asks for a follow-up run when regions were deferred (after `previousAttempt` follow-ups in a row).
 * Best effort: a failure is logged and never fails the run or the stack. Returns when it will run.
 */
async function askForFollowUp(
  logger: HandlerLogger,
  setup: Setup,
  followUps: FollowUps,
  results: ReconcileReport['results'],
  previousAttempt: number,
): Promise<Date | undefined> {
  const wanted = followUpFor(results, previousAttempt, followUps.now());
  const scheduler = wanted ? followUps.make(setup.env, setup.functionArn) : undefined;
  if (!wanted || !scheduler) return undefined;
  try {
    await scheduler.schedule(wanted.at, wanted.event);
    logger.info('follow-up run scheduled', {
      at: wanted.at.toISOString(),
      attempt: wanted.event.detail.attempt,
      regions: wanted.regions,
    });
    return wanted.at;
  } catch (error) {
    logger.warn('could not schedule a follow-up run; the daily repair picks the regions up', {
      regions: wanted.regions,
      reason: describeError(error),
    });
    return undefined;
  }
}

function setUp(
  context: LambdaContext,
  rawEnv: Readonly<Record<string, string | undefined>>,
  services: Services,
): Setup {
  const identity = functionIdentity(context);
  if (identity.partition !== 'aws' && identity.partition !== 'aws-us-gov') {
    throw new EcrError(`partition ${identity.partition} is not supported`);
  }
  const partition: PartitionName = identity.partition;
  const env = readEcrEnvironment(rawEnv, identity.accountId, partition);
  return {
    accountId: identity.accountId,
    partition,
    env,
    deps: services(env, partition),
    functionArn: context.invokedFunctionArn,
  };
}

/** What a run ended with: every region's result (deferred for those not reached), or why it did not run. */
type RunEnd =
  | { readonly kind: 'done'; readonly report: EcrConnectReport; readonly complete: boolean }
  | { readonly kind: 'not-planned'; readonly why: string };

async function run(
  setup: Setup,
  request: EcrConnectRequest,
  context: LambdaContext,
  waitForLease: boolean,
  leasePollMs: number | undefined,
): Promise<RunEnd> {
  const progress = new RegionProgress<RegionResult>();
  const budget = invocationBudget(context);
  const outcome = await withDeadline(budget.workMs, (signal) =>
    runEcrConnect(
      request,
      {
        accountId: setup.accountId,
        partition: setup.partition,
        falconSecretId: setup.env.falconSecretId,
        externalIdSecretId: setup.env.externalIdSecretId,
        connectionRoleArn: setup.env.connectionRoleArn,
        concurrency: setup.env.concurrency,
      },
      setup.deps,
      {
        signal,
        observer: progress,
        lease: {
          holder: context.awsRequestId ?? `run-${Date.now()}`,
          // Outlives this invocation, so a crash frees the lease by expiry and never while it runs.
          ttlMs: budget.remainingMs + 60_000,
          waitMs: waitForLease ? Math.max(0, budget.workMs - WORK_AFTER_LEASE_MS) : 0,
          ...(leasePollMs !== undefined ? { pollMs: leasePollMs } : {}),
        },
      },
    ),
  );
  if (outcome.finished) return { kind: 'done', report: outcome.value, complete: true };
  const unfinished = progress.unfinished();
  if (unfinished === undefined) {
    return { kind: 'not-planned', why: `timed out before finishing: ${progress.describeUnfinished()}` };
  }
  // The time budget ran out: what finished stands, the rest is deferred to the next scheduled run
  // (a create in flight stays pending in the record and is adopted then). A Delete does not block the
  // stack's deletion on it either: the owned connections it did not reach are named as left in Falcon
  // (they stay in the ownership record too).
  const notReached = "not reached before the run's time budget ran out";
  const results: RegionResult[] = [
    ...progress.results(),
    ...unfinished.map((region): RegionResult => {
      const url = ecrRegistryUrl(setup.accountId, region);
      const ownedId = progress.ownedAtStart(region);
      if (request.kind === 'delete' && ownedId !== undefined) {
        return {
          region,
          url,
          outcome: RegionOutcome.Left,
          owned: true,
          connectionId: ownedId,
          reason: notReached,
        };
      }
      return {
        region,
        url,
        outcome: RegionOutcome.Deferred,
        owned: ownedId !== undefined,
        reason: notReached,
      };
    }),
  ].sort((a, b) => a.region.localeCompare(b.region));
  return { kind: 'done', report: { accountId: setup.accountId, results }, complete: false };
}

const UNCONFIGURED = 'unconfigured';

interface Answer {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly reason: string;
  readonly physicalId: string;
  readonly data?: Record<string, string>;
}

async function onCustomResource(
  logger: HandlerLogger,
  event: CustomResourceEvent,
  context: LambdaContext,
  rawEnv: Readonly<Record<string, string | undefined>>,
  services: Services,
  sendOptions: SendOptions | undefined,
  leasePollMs: number | undefined,
  followUps: FollowUps,
): Promise<void> {
  const answer = await decide(logger, event, context, rawEnv, services, leasePollMs, followUps);
  const response = buildResponse(event, answer.status, answer.reason, answer.physicalId, answer.data);
  logger[answer.status === 'SUCCESS' ? 'info' : 'error']('custom resource answer', {
    requestType: event.RequestType,
    status: answer.status,
    reason: response.Reason,
    physicalResourceId: answer.physicalId,
  });
  await sendResponseBeforeDeadline(
    event.ResponseURL,
    response,
    context.getRemainingTimeInMillis(),
    sendOptions,
  );
}

/** Runs the request and decides the answer; never throws (CloudFormation must always get one). */
async function decide(
  logger: HandlerLogger,
  event: CustomResourceEvent,
  context: LambdaContext,
  rawEnv: Readonly<Record<string, string | undefined>>,
  services: Services,
  leasePollMs: number | undefined,
  followUps: FollowUps,
): Promise<Answer> {
  const { RequestType: type } = event;
  let physicalId = event.PhysicalResourceId ?? `falcon-org-ecr-${UNCONFIGURED}`;
  try {
    const props = parseProperties(event.ResourceProperties);
    if (type === 'Update') {
      // Only the old DeploymentId matters: old properties that no longer parse (e.g. written by an
      // earlier version) must not make every Update fail. The ownership record rejects a changed ID too.
      const oldId = event.OldResourceProperties?.DeploymentId;
      if (typeof oldId === 'string' && oldId !== props.deploymentId) {
        throw new EcrError(
          `DeploymentId cannot change on update (was "${oldId}", now "${props.deploymentId}"): the connections are owned by the old one`,
        );
      }
    }
    // The environment is checked before a Create gets its physical ID: a Create that never got past
    // validation keeps the "unconfigured" ID, so its rollback Delete succeeds without the environment.
    const setup = setUp(context, rawEnv, services);
    // Stable for the resource's life: set on Create, echoed unchanged on Update and Delete.
    if (type === 'Create') physicalId = `falcon-org-ecr-${setup.accountId}-${props.deploymentId}`;
    if (
      type === 'Update' &&
      onlyPurgeOnDeleteChanged(event.OldResourceProperties, event.ResourceProperties)
    ) {
      // `destroy --purge` flips only this flag before deleting: nothing to reconcile, and the Falcon
      // client may already be revoked (the purge must not fail on it). The rule still reads the schedule.
      return {
        status: 'SUCCESS',
        reason: `only PurgeOnDelete changed (now ${String(props.purgeOnDelete)}): nothing to reconcile`,
        physicalId,
        data: { RepairSchedule: spreadSchedule(props.schedule, setup.accountId) },
      };
    }
    const request: EcrConnectRequest =
      type === 'Delete'
        ? {
            kind: 'delete',
            deploymentId: props.deploymentId,
            disconnect: props.disconnectOnDelete,
            purge: props.purgeOnDelete,
          }
        : {
            kind: 'apply',
            deploymentId: props.deploymentId,
            regions: props.regions,
            provisional: type === 'Create',
          };
    const end = await run(setup, request, context, true, leasePollMs);
    if (end.kind === 'not-planned') return { status: 'FAILED', reason: end.why, physicalId };
    const { report } = end;
    if (report.deferredRun !== undefined) {
      return { status: 'FAILED', reason: `not run: ${report.deferredRun}; retry later`, physicalId };
    }
    logResults(logger, type, report.results);
    const ok = unsuccessful(report.results).length === 0;
    if (ok && !end.complete && type === 'Create') {
      await confirmCreate(props.deploymentId, setup.accountId, setup.deps).catch((error: unknown) => {
        logger.warn('could not confirm the Create in the ownership record', {
          reason: describeError(error),
        });
      });
    }
    if (type === 'Delete') {
      // Nothing may invoke the function once the stack is gone.
      await followUps
        .make(setup.env, setup.functionArn)
        ?.cancel()
        .catch((error: unknown) => {
          logger.warn('could not remove a pending follow-up run', { reason: describeError(error) });
        });
    }
    // Regions Falcon's budget deferred get a follow-up run within minutes; the stack does not wait.
    const followUpAt =
      ok && type !== 'Delete' ? await askForFollowUp(logger, setup, followUps, report.results, 0) : undefined;
    const reason = reasonFor(report);
    return {
      status: ok ? 'SUCCESS' : 'FAILED',
      reason: followUpAt ? `${reason}; deferred regions are retried at ${followUpAt.toISOString()}` : reason,
      physicalId,
      data: answerData(type, report, props, setup.accountId),
    };
  } catch (error) {
    const reason = describeError(error);
    if (type === 'Delete' && physicalId.endsWith(UNCONFIGURED)) {
      // The resource was never created with usable inputs, so there is nothing to remove.
      return { status: 'SUCCESS', reason: `nothing to delete (${reason})`, physicalId };
    }
    return { status: 'FAILED', reason, physicalId };
  }
}

function reasonFor(report: EcrConnectReport): string {
  const summary = summarizeResults(report.results);
  if (report.purged === undefined) return summary;
  const removed = report.purged.length > 0 ? report.purged.join(', ') : 'nothing was left';
  return `${summary}; purged: ${removed}`;
}

/** Counts, and on Create/Update the account's repair schedule (read by the schedule rule). */
function answerData(
  type: CustomResourceEvent['RequestType'],
  report: EcrConnectReport,
  props: EcrConnectProperties,
  accountId: string,
): Record<string, string> {
  const data = resultData(report.results);
  return type === 'Delete' ? data : { ...data, RepairSchedule: spreadSchedule(props.schedule, accountId) };
}

async function onSchedule(
  logger: HandlerLogger,
  context: LambdaContext,
  rawEnv: Readonly<Record<string, string | undefined>>,
  services: Services,
  leasePollMs: number | undefined,
  followUps: FollowUps,
  /** Follow-ups in a row before this run (0 for the daily repair). */
  attempt: number,
): Promise<ScheduledRunSummary> {
  const setup = setUp(context, rawEnv, services);
  // A scheduled run never waits: whoever holds the lease is doing the same work.
  const end = await run(setup, { kind: 'repair' }, context, false, leasePollMs);
  if (end.kind === 'not-planned') throw new EcrError(`scheduled repair ${end.why}`);
  const { report } = end;
  if (report.deferredRun !== undefined) {
    const summary = `deferred: ${report.deferredRun}`;
    logger.info('scheduled repair deferred', { reason: report.deferredRun });
    return { summary, results: [], deferred: report.deferredRun };
  }
  const { results } = report;
  logResults(logger, 'Scheduled', results);
  const summary = summarizeResults(results);
  const followUpAt = await askForFollowUp(logger, setup, followUps, results, attempt);
  // Fail the invocation so the Errors metric and any alarm see it; every region already reported its own outcome.
  if (unsuccessful(results).length > 0) throw new EcrError(`scheduled repair incomplete: ${summary}`);
  return { summary, results, ...(followUpAt ? { followUpAt: followUpAt.toISOString() } : {}) };
}

function logResults(logger: HandlerLogger, trigger: string, results: ReconcileReport['results']): void {
  for (const r of results) {
    const warn = r.outcome === 'failed' || r.outcome === 'skipped' || r.outcome === 'deferred';
    logger[warn ? 'warn' : 'info']('region', { trigger, ...r });
  }
}

export const handler = createEcrConnectHandler();

/**
 * `ecr-connect`: connects this account's ECR registries to Falcon. Triggered by the CloudFormation custom
 * resource (Create / Update / Delete) and by an EventBridge schedule that repairs drift. Thin: it reads the
 * event and environment, calls runEcrConnect, and always answers CloudFormation before its own timeout.
 */
import type { PartitionName } from '../config/partitions.js';
import { createEcrAwsClients, createEcrConnectDeps, type EcrAwsClients } from '../ecr/aws-deps.js';
import { runEcrConnect, type EcrConnectDeps, type EcrConnectRequest } from '../ecr/connect.js';
import { readEcrEnvironment, type EcrEnvironment } from '../ecr/environment.js';
import { describeError, EcrError } from '../ecr/errors.js';
import { unsuccessful, type ReconcileReport } from '../ecr/outcome.js';
import { parseProperties } from '../ecr/properties.js';
import { resultData, summarizeResults } from '../ecr/report.js';
import {
  buildResponse,
  isCustomResourceEvent,
  sendResponse,
  withDeadline,
  workBudgetMs,
  type CustomResourceEvent,
  type SendOptions,
} from './shared/custom-resource.js';
import { functionIdentity, isScheduledEvent, logJson, type LambdaContext } from './shared/lambda.js';
import { RegionProgress } from './shared/progress.js';

export interface EcrConnectHandlerOptions {
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Builds the adapters; default: AWS SDK clients created once per module and the Falcon HTTP client. */
  readonly services?: (env: EcrEnvironment, partition: PartitionName) => EcrConnectDeps;
  readonly send?: SendOptions;
}

export interface ScheduledRunSummary {
  readonly summary: string;
  readonly results: ReconcileReport['results'];
}

let moduleClients: EcrAwsClients | undefined;

function defaultServices(env: EcrEnvironment, partition: PartitionName): EcrConnectDeps {
  moduleClients ??= createEcrAwsClients();
  return createEcrConnectDeps(moduleClients, env.ownershipParameterName, partition, (event) =>
    logJson('info', 'falcon', { event }),
  );
}

/** Builds the handler; tests inject the environment and adapters. */
export function createEcrConnectHandler(options: EcrConnectHandlerOptions = {}) {
  const services = options.services ?? defaultServices;
  return async (event: unknown, context: LambdaContext): Promise<ScheduledRunSummary | undefined> => {
    const env = options.env ?? process.env;
    if (isCustomResourceEvent(event)) {
      await onCustomResource(event, context, env, services, options.send);
      return undefined;
    }
    if (isScheduledEvent(event)) return onSchedule(context, env, services);
    throw new EcrError(
      'unsupported event: expected a CloudFormation custom resource request or a scheduled event',
    );
  };
}

interface Setup {
  readonly accountId: string;
  readonly partition: PartitionName;
  readonly env: EcrEnvironment;
  readonly deps: EcrConnectDeps;
}

function setUp(
  context: LambdaContext,
  rawEnv: Readonly<Record<string, string | undefined>>,
  services: NonNullable<EcrConnectHandlerOptions['services']>,
): Setup {
  const identity = functionIdentity(context);
  if (identity.partition !== 'aws' && identity.partition !== 'aws-us-gov') {
    throw new EcrError(`partition ${identity.partition} is not supported`);
  }
  const partition: PartitionName = identity.partition;
  const env = readEcrEnvironment(rawEnv, identity.accountId, partition);
  return { accountId: identity.accountId, partition, env, deps: services(env, partition) };
}

async function run(
  setup: Setup,
  request: EcrConnectRequest,
  context: LambdaContext,
  progress: RegionProgress,
) {
  const budget = workBudgetMs(context.getRemainingTimeInMillis());
  return withDeadline(budget, (signal) =>
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
      { signal, observer: progress },
    ),
  );
}

const UNCONFIGURED = 'unconfigured';

interface Answer {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly reason: string;
  readonly physicalId: string;
  readonly data?: Record<string, string>;
}

async function onCustomResource(
  event: CustomResourceEvent,
  context: LambdaContext,
  rawEnv: Readonly<Record<string, string | undefined>>,
  services: NonNullable<EcrConnectHandlerOptions['services']>,
  sendOptions: SendOptions | undefined,
): Promise<void> {
  const answer = await decide(event, context, rawEnv, services);
  const response = buildResponse(event, answer.status, answer.reason, answer.physicalId, answer.data);
  logJson(answer.status === 'SUCCESS' ? 'info' : 'error', 'custom resource answer', {
    requestType: event.RequestType,
    status: answer.status,
    reason: response.Reason,
    physicalResourceId: answer.physicalId,
  });
  // Every attempt and pause must end before the invocation does (keep a second to return).
  const left = context.getRemainingTimeInMillis();
  await sendResponse(event.ResponseURL, response, {
    timeoutMs: Math.max(1000, Math.min(10_000, Math.floor(left / 3))),
    budgetMs: Math.max(1000, left - 1000),
    ...sendOptions,
  });
}

/** Runs the request and decides the answer; never throws (CloudFormation must always get one). */
async function decide(
  event: CustomResourceEvent,
  context: LambdaContext,
  rawEnv: Readonly<Record<string, string | undefined>>,
  services: NonNullable<EcrConnectHandlerOptions['services']>,
): Promise<Answer> {
  const { RequestType: type } = event;
  let physicalId = event.PhysicalResourceId ?? `falcon-org-ecr-${UNCONFIGURED}`;
  try {
    const accountId = safeAccountId(context);
    const props = parseProperties(event.ResourceProperties);
    // Stable for the resource's life: set on Create, echoed unchanged on Update and Delete.
    if (type === 'Create') physicalId = `falcon-org-ecr-${accountId}-${props.deploymentId}`;
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
    const setup = setUp(context, rawEnv, services);
    const request: EcrConnectRequest =
      type === 'Delete'
        ? { kind: 'delete', deploymentId: props.deploymentId, disconnect: props.disconnectOnDelete }
        : { kind: 'apply', deploymentId: props.deploymentId, regions: props.regions };
    const progress = new RegionProgress();
    const outcome = await run(setup, request, context, progress);
    if (!outcome.finished) {
      return {
        status: 'FAILED',
        reason: `timed out before finishing: ${progress.describeUnfinished()}`,
        physicalId,
      };
    }
    const { results } = outcome.value;
    logResults(type, results);
    return {
      status: unsuccessful(results).length === 0 ? 'SUCCESS' : 'FAILED',
      reason: summarizeResults(results),
      physicalId,
      data: resultData(results),
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

async function onSchedule(
  context: LambdaContext,
  rawEnv: Readonly<Record<string, string | undefined>>,
  services: NonNullable<EcrConnectHandlerOptions['services']>,
): Promise<ScheduledRunSummary> {
  const setup = setUp(context, rawEnv, services);
  const progress = new RegionProgress();
  const outcome = await run(setup, { kind: 'repair' }, context, progress);
  if (!outcome.finished) {
    throw new EcrError(`scheduled repair timed out before finishing: ${progress.describeUnfinished()}`);
  }
  const { results } = outcome.value;
  logResults('Scheduled', results);
  const summary = summarizeResults(results);
  // Fail the invocation so the Errors metric and any alarm see it; every region already reported its own outcome.
  if (unsuccessful(results).length > 0) throw new EcrError(`scheduled repair incomplete: ${summary}`);
  return { summary, results };
}

function safeAccountId(context: LambdaContext): string {
  try {
    return functionIdentity(context).accountId;
  } catch {
    return 'unknown-account';
  }
}

function logResults(trigger: string, results: ReconcileReport['results']): void {
  for (const r of results) {
    logJson(r.outcome === 'failed' || r.outcome === 'skipped' ? 'warn' : 'info', 'region', { trigger, ...r });
  }
}

export const handler = createEcrConnectHandler();

import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge, type NagAcknowledgment } from './nag.js';

/** Every falcon-org function runs on this runtime; the bundles are built for it (scripts/build.mjs). */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_22_X;
export const FUNCTION_LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

export interface FunctionBuilderProps {
  /** Fixed function name. */
  readonly functionName: string;
  readonly description: string;
  /** The bundle's name (`coverage`, `eks-discover`, …), for the runtime acknowledgement. */
  readonly bundle: string;
  readonly code: lambda.Code;
  readonly timeout: cdk.Duration;
  readonly memorySize: number;
  /** Nothing secret: ARNs, names and settings. */
  readonly environment: Readonly<Record<string, string>>;
  /** What the function does besides its logs and its dead-letter queue, each action on its resources. */
  readonly statements: readonly iam.PolicyStatement[];
  /** A fixed role name, where another account's trust policy names the role. @default a CloudFormation name */
  readonly roleName?: string;
  /** Keep the log group when the stack is deleted (default) or remove it. */
  readonly logRemovalPolicy?: cdk.RemovalPolicy;
  /** The function may delete its own log group (the template `destroy --purge` deploys). @default false */
  readonly purgeOwnLogGroup?: boolean;
  /** Where Lambda puts asynchronous events that failed every retry (the role may send to it). */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Lambda's retries of a failed asynchronous invocation. @default Lambda's (2) */
  readonly retryAttempts?: number;
  readonly reservedConcurrentExecutions?: number;
  /** The function's /tmp in MiB. @default Lambda's (512) */
  readonly ephemeralStorageMiB?: number;
  /** Findings on the role the feature accepts, each with its reason. */
  readonly roleAcknowledgments?: readonly NagAcknowledgment[];
}

export interface BuiltFunction {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/**
 * Builds a falcon-org function into `scope` the one way every feature does: its own log group, an
 * execution role whose inline policy is exactly the feature's statements plus writing those logs
 * (and sending to the dead-letter queue, and deleting the log group when asked), and the function on
 * {@link FUNCTION_RUNTIME}. The role is handed to the function immutable, so nothing CDK would add
 * on its own (event sources, dead-letter queues) widens it: every permission is in the role itself,
 * there before the function first runs.
 *
 * The children are created directly in `scope` as `Logs`, `ExecutionRole` and `Function`, the IDs
 * the features have always used: a deployed stack keeps its resources (a named function whose
 * logical ID changed could not be replaced).
 *
 * @example
 * const { function: fn, role } = buildFunction(this, { functionName, bundle: 'coverage', … });
 */
export function buildFunction(scope: Construct, props: FunctionBuilderProps): BuiltFunction {
  // Named by CloudFormation, so a retained group of an earlier stack never blocks a new one.
  const logGroup = new logs.LogGroup(scope, 'Logs', {
    retention: FUNCTION_LOG_RETENTION,
    removalPolicy: props.logRemovalPolicy ?? cdk.RemovalPolicy.RETAIN,
  });
  const role = new iam.Role(scope, 'ExecutionRole', {
    ...(props.roleName !== undefined ? { roleName: props.roleName } : {}),
    description: `Execution role of the falcon-org ${props.bundle} function`,
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    inlinePolicies: {
      Function: new iam.PolicyDocument({
        statements: [
          ...props.statements,
          ...(props.deadLetterQueue ? [deadLetterStatement(props.deadLetterQueue)] : []),
          ...ownLogStatements(logGroup, { purge: props.purgeOwnLogGroup === true }),
        ],
      }),
    },
  });
  if (props.roleAcknowledgments && props.roleAcknowledgments.length > 0) {
    acknowledge(role, ...props.roleAcknowledgments);
  }
  const fn = new lambda.Function(scope, 'Function', {
    functionName: props.functionName,
    description: props.description,
    runtime: FUNCTION_RUNTIME,
    handler: 'index.handler',
    code: props.code,
    timeout: props.timeout,
    memorySize: props.memorySize,
    role: role.withoutPolicyUpdates(),
    logGroup,
    environment: { ...props.environment },
    ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
    ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
    ...(props.ephemeralStorageMiB !== undefined
      ? { ephemeralStorageSize: cdk.Size.mebibytes(props.ephemeralStorageMiB) }
      : {}),
    ...(props.reservedConcurrentExecutions !== undefined
      ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
      : {}),
  });
  acknowledge(fn, {
    id: 'AwsSolutions-L1',
    reason: `The ${props.bundle} bundle is built and tested for Node.js 22 (nodejs22.x); the runtime moves deliberately, together with the build target, not whenever Lambda adds a newer one.`,
  });
  return { function: fn, role, logGroup };
}

function deadLetterStatement(queue: sqs.IQueue): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'SendFailedEventsToDeadLetterQueue',
    actions: ['sqs:SendMessage'],
    resources: [queue.queueArn],
  });
}

/**
 * Writing one's own log streams (functions and the deployer project alike) and, with `purge`,
 * deleting the group itself.
 */
export function ownLogStatements(
  logGroup: logs.ILogGroup,
  options: { purge?: boolean } = {},
): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      // The log group's Arn attribute ends in ":*", which covers its log streams and nothing else.
      resources: [logGroup.logGroupArn],
    }),
  ];
  if (options.purge === true) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'PurgeOwnLogGroup',
        actions: ['logs:DeleteLogGroup'],
        // The group itself, in both forms IAM may be asked about (with and without ":*").
        resources: [
          cdk.Stack.of(logGroup).formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: logGroup.logGroupName,
            arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
          }),
          logGroup.logGroupArn,
        ],
      }),
    );
  }
  return statements;
}

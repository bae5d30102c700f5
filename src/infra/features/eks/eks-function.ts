import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../../nag.js';

export interface EksFunctionProps {
  readonly functionName: string;
  /** Fixed role name: the member execution role trusts this role by its exact ARN. */
  readonly roleName: string;
  readonly description: string;
  readonly codeBucket: s3.IBucket;
  readonly codeKey: string;
  readonly timeout: cdk.Duration;
  readonly memorySize: number;
  readonly environment: Readonly<Record<string, string>>;
  /** Where Lambda puts asynchronous events that failed every retry (the role gets sqs:SendMessage on it). */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Keep the log group when the stack is deleted (default) or remove it (`destroy --purge`). */
  readonly logRemovalPolicy: cdk.RemovalPolicy;
  /** What the function does besides writing its logs, each action on its resources. */
  readonly statements: readonly iam.PolicyStatement[];
}

export const EKS_FUNCTION_RUNTIME = lambda.Runtime.NODEJS_22_X;

/**
 * A home-account EKS function (`eks-discover`, `eks-event`): its code from the artifact bucket, its
 * own log group, and an execution role with exactly the given statements. The role is handed to the
 * function immutable, so nothing CDK would add on its own (event sources, dead-letter queues) widens
 * it: every permission is in the statements, in the role itself, there before the function runs.
 */
export class EksFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: EksFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.logRemovalPolicy,
    });
    this.role = new iam.Role(this, 'ExecutionRole', {
      roleName: props.roleName,
      description: `Execution role of the falcon-org ${props.functionName} function`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: {
        Function: new iam.PolicyDocument({
          statements: [
            ...props.statements,
            ...(props.deadLetterQueue
              ? [
                  new iam.PolicyStatement({
                    sid: 'SendFailedEventsToDeadLetterQueue',
                    actions: ['sqs:SendMessage'],
                    resources: [props.deadLetterQueue.queueArn],
                  }),
                ]
              : []),
            new iam.PolicyStatement({
              sid: 'WriteOwnLogs',
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [this.logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });
    this.function = new lambda.Function(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      runtime: EKS_FUNCTION_RUNTIME,
      handler: 'index.handler',
      code: lambda.Code.fromBucket(props.codeBucket, props.codeKey),
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role.withoutPolicyUpdates(),
      logGroup: this.logGroup,
      environment: { ...props.environment },
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
    });
    acknowledge(this.function, {
      id: 'AwsSolutions-L1',
      reason:
        'The EKS function bundles are built and tested for Node.js 22 (nodejs22.x); the runtime moves deliberately, together with the build target.',
    });
  }
}

import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { buildFunction } from '../../function-builder.js';
import { leaseParameterName } from '../../../ecr/ssm-run-lease.js';
import { ssmParameterArn } from './names.js';

/** The Lambda settings of `ecr-connect`. */
export const ECR_CONNECT_FUNCTION = {
  /** The handler answers CloudFormation before this runs out (it keeps a reserve for the answer). */
  timeout: cdk.Duration.seconds(300),
  memorySize: 256,
  /**
   * When the configuration asks for it: one run at a time by Lambda itself. Without it the handler's
   * run lease (an SSM parameter next to the ownership record) serialises the runs.
   */
  reservedConcurrentExecutions: 1,
} as const;

export interface ConnectFunctionProps {
  /** Fixed function name. */
  readonly functionName: string;
  /** Where the bundle is: member-stack parameters filled from the root stack's artifact bucket. */
  readonly codeBucket: string;
  readonly codeKey: string;
  readonly falconSecret: secretsmanager.ISecret;
  readonly externalIdSecret: secretsmanager.ISecret;
  readonly connectionRole: iam.IRole;
  readonly ownershipParameterName: string;
  /** True when the handler must discover the account's enabled regions (no regions configured, commercial AWS). */
  readonly discoversRegions: boolean;
  /**
   * Reserve one concurrent execution. Lambda keeps 10 executions unreserved, so an account whose quota
   * is still 10 refuses any reservation; that is why it is off by default: overlapping runs then
   * serialise on the handler's run lease instead.
   */
  readonly reserveConcurrency: boolean;
  /**
   * The template `destroy --purge` deploys before deleting: the function may also delete its own log
   * group (the custom resource's Delete removes it). @default false
   */
  readonly purgeOnDelete?: boolean;
}

/**
 * The `ecr-connect` function with its own log group and an execution role that can do exactly what
 * the handler does: read the two secrets, keep its ownership record in one SSM parameter, write its
 * logs and, only when it has to discover regions, call `account:ListRegions`.
 */
export class ConnectFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The role EventBridge Scheduler invokes the function with for a follow-up run (issue 14.7b). */
  readonly followUpRole: iam.Role;

  constructor(scope: Construct, id: string, props: ConnectFunctionProps) {
    super(scope, id);
    // The follow-up run of deferred regions: a one-time schedule the function itself creates, invoking
    // only this function, through a role only EventBridge Scheduler of this account may assume.
    const stack = cdk.Stack.of(this);
    const functionArn = stack.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: props.functionName,
      arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
    });
    const followUpSchedule = followUpScheduleName(props.functionName);
    this.followUpRole = new iam.Role(this, 'FollowUpRole', {
      description:
        'EventBridge Scheduler invokes the falcon-org ecr-connect function once for deferred regions',
      // Only Scheduler acting for this account (the function names the schedule; the role is passed to
      // Scheduler alone, see followUpStatements).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': cdk.Aws.ACCOUNT_ID } },
      }),
      inlinePolicies: {
        InvokeEcrConnect: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'InvokeEcrConnect',
              actions: ['lambda:InvokeFunction'],
              resources: [functionArn],
            }),
          ],
        }),
      },
    });
    const built = buildFunction(this, {
      functionName: props.functionName,
      description: "falcon-org: connects this account's ECR registries to CrowdStrike Falcon",
      bundle: 'ecr-connect',
      code: lambda.Code.fromBucket(
        s3.Bucket.fromBucketName(this, 'CodeBucket', props.codeBucket),
        props.codeKey,
      ),
      timeout: ECR_CONNECT_FUNCTION.timeout,
      memorySize: ECR_CONNECT_FUNCTION.memorySize,
      ...(props.reserveConcurrency
        ? { reservedConcurrentExecutions: ECR_CONNECT_FUNCTION.reservedConcurrentExecutions }
        : {}),
      statements: [
        ...executionStatements(props),
        ...followUpStatements(followUpSchedule, this.followUpRole.roleArn),
      ],
      purgeOwnLogGroup: props.purgeOnDelete === true,
      roleAcknowledgments: props.discoversRegions
        ? [
            {
              id: 'AwsSolutions-IAM5[Resource::*]',
              reason:
                'account:ListRegions (which regions are enabled for this account, needed because no regions are configured) is authorized on the account as a whole; it is read-only and is the only action with this resource.',
            },
          ]
        : [],
      // Exactly what src/ecr/environment.ts reads (and LOG_GROUP_NAME below); nothing secret.
      environment: {
        FALCON_SECRET_ARN: props.falconSecret.secretArn,
        EXTERNAL_ID_SECRET_ARN: props.externalIdSecret.secretArn,
        CONNECTION_ROLE_ARN: props.connectionRole.roleArn,
        OWNERSHIP_PARAMETER_NAME: props.ownershipParameterName,
        FOLLOW_UP_SCHEDULE_NAME: followUpSchedule,
        FOLLOW_UP_ROLE_ARN: this.followUpRole.roleArn,
      },
    });
    this.function = built.function;
    this.role = built.role;
    this.logGroup = built.logGroup;
    // The group the builder made for it: a purging Delete removes it.
    this.function.addEnvironment('LOG_GROUP_NAME', this.logGroup.logGroupName);
  }
}

/** The name of the account's one follow-up schedule (default group). */
export function followUpScheduleName(functionName: string): string {
  return `${functionName}-follow-up`.slice(0, 64);
}

/**
 * What asking for a follow-up run needs: create, move and delete the one schedule of that name, and
 * hand it the follow-up role (to Scheduler only).
 */
export function followUpStatements(scheduleName: string, followUpRoleArn: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'ScheduleFollowUpRun',
      actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
      resources: [
        `arn:${cdk.Aws.PARTITION}:scheduler:${cdk.Aws.REGION}:${cdk.Aws.ACCOUNT_ID}:schedule/default/${scheduleName}`,
      ],
    }),
    new iam.PolicyStatement({
      sid: 'PassFollowUpRole',
      actions: ['iam:PassRole'],
      resources: [followUpRoleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }),
  ];
}

/** The execution role's statements (its logs are the builder's), each action on exactly the resources it needs. */
export function executionStatements(
  props: Pick<
    ConnectFunctionProps,
    'falconSecret' | 'externalIdSecret' | 'ownershipParameterName' | 'discoversRegions'
  >,
): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: 'ReadFalconCredentialsAndExternalId',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [props.falconSecret.secretArn, props.externalIdSecret.secretArn],
    }),
    new iam.PolicyStatement({
      sid: 'KeepOwnershipRecord',
      actions: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'],
      // The record and the run lease next to it.
      resources: [
        ssmParameterArn(props.ownershipParameterName),
        ssmParameterArn(leaseParameterName(props.ownershipParameterName)),
      ],
    }),
  ];
  if (props.discoversRegions) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'DiscoverEnabledRegions',
        actions: ['account:ListRegions'],
        resources: ['*'],
      }),
    );
  }
  return statements;
}

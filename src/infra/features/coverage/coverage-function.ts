import * as cdk from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { encryptedQueue } from '../eks/queues.js';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  COVERAGE_FUNCTION_ENV,
  type CoverageFunctionSettings,
} from '../../../coverage/publish-environment.js';
import { REPORT_KEYS } from '../../../coverage/publish.js';
import { assumeRoleInOrganization } from '../../assume-in-organization.js';
import { buildFunction } from '../../function-builder.js';
import { logicalIdOf } from '../../nag.js';

/** The Lambda settings of `coverage`. */
export const COVERAGE_FUNCTION = {
  /** Lambda's maximum: a large organization is read in one invocation (see the benchmark). */
  timeout: cdk.Duration.minutes(15),
  /** The benchmark's 1,000 accounts × 17 regions need under 512 MiB; more memory buys CPU. */
  memorySize: 1024,
  /**
   * /tmp (MiB): the run spools each account's items there, then writes the summary and the heatmap
   * there before sending them (about 56 MiB per 1,000 accounts × 17 regions in all; Lambda's default
   * 512 MiB would fill at about 9,000 accounts).
   */
  ephemeralStorageMiB: 2048,
  /**
   * V8 collects before it grows past this (MiB), leaving room for the SDK's request buffers below the
   * function's memory; without it V8 lets garbage grow the heap as far as it likes.
   */
  maxOldSpaceMiB: 768,
  /**
   * The schedule invokes it asynchronously: Lambda's default two retries would run a report that timed
   * out twice more (45 minutes of a 15-minute job). The next schedule is the retry; a failed event goes
   * to the dead-letter queue (and its alarm).
   */
  retryAttempts: 0,
} as const;

/**
 * Organizations reads of the scope code (targets, nested OUs, ACTIVE accounts) and of the management
 * account's listing (which account it is; its name when it is not under the targets).
 */
export const ORGANIZATION_READ_ACTIONS = [
  'organizations:ListAccountsForParent',
  'organizations:ListOrganizationalUnitsForParent',
  'organizations:DescribeOrganization',
  'organizations:DescribeAccount',
] as const;

/** DynamoDB reads of the EKS runs table (one paged scan per report). */
export const RUNS_TABLE_READ_ACTIONS = ['dynamodb:Scan'] as const;

export interface CoverageFunctionProps {
  readonly functionName: string;
  readonly code: lambda.Code;
  readonly settings: CoverageFunctionSettings;
  readonly falconSecret: secretsmanager.ISecret;
  readonly bucket: s3.IBucket;
  readonly metricNamespace: string;
  /** The read roles are assumed only in accounts of this organization (`aws:ResourceOrgID`). */
  readonly organizationId: string;
  /** The EKS runs table; absent when EKS protection is not deployed. */
  readonly runsTable?: dynamodb.ITable;
}

/**
 * The `coverage` function of the home account, with its own log group and an execution role that
 * can do exactly what the handler does: read the Falcon secret, read the organization's structure,
 * assume the read-only coverage role (by name) in accounts of the organization, read the EKS runs table, write
 * the three report objects and publish metrics in its one namespace.
 */
export class CoverageFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** Asynchronous invocations that failed (the alarm on it is added by the root construct). */
  readonly deadLetters: ReturnType<typeof encryptedQueue>;

  constructor(scope: Construct, id: string, props: CoverageFunctionProps) {
    super(scope, id);
    this.deadLetters = encryptedQueue(this, 'DeadLetters', { retentionPeriod: cdk.Duration.days(14) });
    // The role is named by CloudFormation: a replaced role gets a new ARN, which updates every member
    // trust policy.
    const built = buildFunction(this, {
      functionName: props.functionName,
      description: 'falcon-org: reports what Falcon protects across the organization (coverage)',
      bundle: 'coverage',
      code: props.code,
      timeout: COVERAGE_FUNCTION.timeout,
      memorySize: COVERAGE_FUNCTION.memorySize,
      ephemeralStorageMiB: COVERAGE_FUNCTION.ephemeralStorageMiB,
      retryAttempts: COVERAGE_FUNCTION.retryAttempts,
      deadLetterQueue: this.deadLetters,
      statements: coverageStatements(props),
      roleAcknowledgments: [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'cloudwatch:PutMetricData has no resource-level permissions and is limited to one namespace by the cloudwatch:namespace condition; the Organizations list calls that read the scope are authorized on the organization as a whole.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${props.settings.readRoleName}]`,
          reason:
            'The read-only coverage role has the same name in every member account; the function assumes it in each account in scope, and the role trusts this function role alone.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.bucket)}.Arn>/${REPORT_KEYS.datedPrefix}*]`,
          reason:
            'Dated copies are written under reports/YYYY/MM/DD/; nothing else in the bucket is writable.',
        },
      ],
      // Exactly what src/coverage/publish-environment.ts reads; nothing secret.
      environment: {
        [COVERAGE_FUNCTION_ENV.settings]: JSON.stringify(props.settings),
        [COVERAGE_FUNCTION_ENV.falconSecret]: props.falconSecret.secretArn,
        [COVERAGE_FUNCTION_ENV.bucket]: props.bucket.bucketName,
        [COVERAGE_FUNCTION_ENV.metricNamespace]: props.metricNamespace,
        NODE_OPTIONS: `--max-old-space-size=${COVERAGE_FUNCTION.maxOldSpaceMiB}`,
        ...(props.runsTable ? { [COVERAGE_FUNCTION_ENV.runsTable]: props.runsTable.tableName } : {}),
      },
    });
    this.function = built.function;
    this.role = built.role;
    this.logGroup = built.logGroup;
  }
}

/** The execution role's statements (its logs and dead letters are the builder's), each action on exactly the resources it needs. */
export function coverageStatements(
  props: Pick<
    CoverageFunctionProps,
    'settings' | 'falconSecret' | 'bucket' | 'metricNamespace' | 'organizationId' | 'runsTable'
  >,
): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: 'ReadFalconCredentials',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [props.falconSecret.secretArn],
    }),
    new iam.PolicyStatement({
      sid: 'ReadOrganizationScope',
      actions: [...ORGANIZATION_READ_ACTIONS],
      resources: ['*'],
    }),
    assumeRoleInOrganization({
      sid: 'AssumeCoverageReadRoles',
      roleName: props.settings.readRoleName,
      organizationId: props.organizationId,
    }),
    new iam.PolicyStatement({
      sid: 'WriteReports',
      actions: ['s3:PutObject'],
      resources: [
        props.bucket.arnForObjects(REPORT_KEYS.latestJson),
        props.bucket.arnForObjects(REPORT_KEYS.latestHtml),
        props.bucket.arnForObjects(`${REPORT_KEYS.datedPrefix}*`),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'PublishCoverageMetrics',
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': props.metricNamespace } },
    }),
  ];
  if (props.runsTable) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'ReadEksRuns',
        actions: [...RUNS_TABLE_READ_ACTIONS],
        resources: [props.runsTable.tableArn],
      }),
    );
  }
  return statements;
}

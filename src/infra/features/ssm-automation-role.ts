import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { SsmTargets } from '../../config/schema.js';
import { acknowledge, type NagAcknowledgment } from '../nag.js';
import { FALCON_DEPLOY_DOCUMENT } from './ssm-association.js';

/** The AWS-owned Run Command document the Falcon automation sends to instances. */
export const CONFIGURE_PACKAGE_DOCUMENT = 'AWS-ConfigureAWSPackage';

/**
 * Read-only calls that IAM authorizes on the account as a whole (no resource types in the service
 * authorization reference), so they can only be granted on `*`. They are the instance, inventory,
 * command and automation status reads of the document's steps and of Automation itself (how it
 * follows a rate-controlled run and its Run Command step), plus EC2 instance reads (CrowdStrike's README
 * says the role describes instances to learn their platform). None of them changes anything or reads a
 * secret: that is the line, not a guess at which read a document version uses (test/infra asserts
 * each is resource-less and Read/List in the reference).
 */
export const ACCOUNT_WIDE_READS = [
  'ssm:DescribeInstanceInformation',
  'ssm:DescribeInstanceProperties',
  'ssm:GetInventory',
  'ssm:ListInventoryEntries',
  'ssm:ListCommands',
  'ssm:ListCommandInvocations',
  'ssm:GetCommandInvocation',
  'ssm:DescribeAutomationExecutions',
  'ec2:DescribeInstances',
  'ec2:DescribeInstanceStatus',
  'ec2:DescribeTags',
  'ec2:DescribeImages',
] as const;

/** Where the role's statements are written: the partition and account (tokens by default). */
export interface RoleScope {
  readonly partition?: string;
  readonly account?: string;
}

/**
 * The automation role's statements, scoped by resource rather than by a list of the calls one
 * document version happens to make (the steps of CrowdStrike-FalconSensorDeploy change between
 * versions; one missing action and every association of the organization fails):
 * - Automation of CrowdStrike-FalconSensorDeploy only: start it (rate-controlled runs start one child
 *   execution per instance), read it, and follow its executions in this account and the SSM regions.
 * - Run Command of AWS-ConfigureAWSPackage only, to this account's EC2 instances and hybrid managed
 *   instances in the SSM regions: the document's only way to touch an instance.
 * - Read-only calls without resource-level permissions (see {@link ACCOUNT_WIDE_READS}) on `*`.
 * - With a resource group target (configured, or made from tags): listing that group's members.
 * - `secretsmanager:GetSecretValue` on the Falcon secret of each SSM region.
 * No other document can be run: neither StartAutomationExecution nor SendCommand names any other
 * document ARN, and neither is granted on `*` (test/infra/ssm-distributor.test.ts evaluates it).
 *
 * CrowdStrike's document is shared by CrowdStrike's account, so its ARN is matched by name in any
 * account; AWS-owned documents have no account in their ARN.
 */
export function automationRoleStatements(
  names: { readonly secretName: string; readonly targetGroup: string },
  regions: readonly string[],
  targets: SsmTargets,
  scope: RoleScope = {},
): iam.PolicyStatement[] {
  const partition = scope.partition ?? cdk.Aws.PARTITION;
  const account = scope.account ?? cdk.Aws.ACCOUNT_ID;
  const each = (arn: (region: string) => string) => regions.map(arn);
  const falconDocument = (r: string) => `arn:${partition}:ssm:${r}:*:document/${FALCON_DEPLOY_DOCUMENT}`;
  const configureDocument = (r: string) =>
    `arn:${partition}:ssm:${r}::document/${CONFIGURE_PACKAGE_DOCUMENT}`;
  const executions = (r: string) => `arn:${partition}:ssm:${r}:${account}:automation-execution/*`;
  const group = groupOf(targets, names.targetGroup);
  return [
    new iam.PolicyStatement({
      sid: 'StartFalconAutomationOnly',
      actions: ['ssm:StartAutomationExecution'],
      resources: [
        ...each(falconDocument),
        ...each((r) => `arn:${partition}:ssm:${r}:*:automation-definition/${FALCON_DEPLOY_DOCUMENT}:*`),
        ...each(executions),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'FollowAutomationExecutions',
      actions: ['ssm:GetAutomationExecution', 'ssm:DescribeAutomationStepExecutions'],
      resources: each(executions),
    }),
    new iam.PolicyStatement({
      sid: 'ReadFalconDocuments',
      actions: ['ssm:DescribeDocument', 'ssm:GetDocument'],
      resources: [...each(falconDocument), ...each(configureDocument)],
    }),
    new iam.PolicyStatement({
      sid: 'RunConfigurePackageOnly',
      actions: ['ssm:SendCommand'],
      resources: [
        ...each(configureDocument),
        ...each((r) => `arn:${partition}:ec2:${r}:${account}:instance/*`),
        ...each((r) => `arn:${partition}:ssm:${r}:${account}:managed-instance/*`),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'AccountWideReads',
      // Listing a tag-query resource group also needs tag:GetResources (no resource types either).
      actions: [...ACCOUNT_WIDE_READS, ...(group !== undefined ? ['tag:GetResources'] : [])],
      resources: ['*'],
    }),
    ...(group !== undefined
      ? [
          new iam.PolicyStatement({
            sid: 'ListTargetGroup',
            actions: ['resource-groups:ListGroupResources'],
            resources: each((r) => `arn:${partition}:resource-groups:${r}:${account}:group/${group}`),
          }),
        ]
      : []),
    new iam.PolicyStatement({
      sid: 'FalconSecretRead',
      actions: ['secretsmanager:GetSecretValue'],
      resources: each((r) => secretArn(r, names.secretName, partition, account)),
    }),
  ];
}

/** The resource group the association targets, if any (a configured one, or the one made from tags). */
function groupOf(targets: SsmTargets, tagGroup: string): string | undefined {
  if (targets.type === 'resourceGroup') return targets.name;
  if (targets.type === 'tags') return tagGroup;
  return undefined;
}

/**
 * The ARN of the Falcon secret in one region of the member account (`??????`: the random suffix
 * Secrets Manager appends).
 */
function secretArn(region: string, secretName: string, partition: string, account: string): string {
  return `arn:${partition}:secretsmanager:${region}:${account}:secret:${secretName}-??????`;
}

const WILDCARD_REASONS: Readonly<Record<string, string>> = {
  StartFalconAutomationOnly:
    'CrowdStrike shares the document from its own account, so it is matched by name in any account; executions and definition versions are created at run time (IDs not known in advance) and stay in this account.',
  FollowAutomationExecutions:
    "Automation execution IDs are created at run time; only this account's executions in the SSM regions.",
  ReadFalconDocuments:
    'Read-only, and only the two documents the deployment runs (CrowdStrike-FalconSensorDeploy matched by name in any account: CrowdStrike shares it).',
  RunConfigurePackageOnly:
    'The association targets instances chosen at run time (all, by tag or resource group); SendCommand is limited to the AWS-ConfigureAWSPackage document and this account and region.',
  AccountWideReads:
    'Only read-only calls that IAM authorizes on the account as a whole (no resource-level permissions in the service authorization reference).',
  FalconSecretRead:
    'The secret name is fixed and ?????? stands for the six random characters Secrets Manager appends to it, so only the Falcon secret of this account and region matches.',
};

/** One cdk-nag acknowledgment per wildcard resource, each with its statement's reason. */
export function wildcardAcknowledgments(statements: readonly iam.PolicyStatement[]): NagAcknowledgment[] {
  return statements.flatMap((statement) =>
    statement.resources
      .filter((resource) => resource.includes('*'))
      .map((resource) => ({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason: WILDCARD_REASONS[statement.sid ?? ''] ?? 'See src/infra/features/ssm-automation-role.ts.',
      })),
  );
}

/**
 * The role State Manager's automation assumes in one account (home region; it serves the association
 * of every SSM region). No AWS-managed policy: AmazonSSMAutomationRole grants ssm:* on *, EC2
 * run/terminate and stack changes.
 */
export function automationRole(
  stack: cdk.Stack,
  names: { readonly roleName: string; readonly secretName: string; readonly targetGroup: string },
  regions: readonly string[],
  targets: SsmTargets,
): iam.Role {
  const role = new iam.Role(stack, 'AutomationRole', {
    roleName: names.roleName,
    description: `Assumed by State Manager to run ${FALCON_DEPLOY_DOCUMENT}`,
    assumedBy: new iam.ServicePrincipal('ssm.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': cdk.Aws.ACCOUNT_ID } },
    }),
    inlinePolicies: {
      FalconSensorDeploy: new iam.PolicyDocument({
        statements: automationRoleStatements(names, regions, targets),
      }),
    },
  });
  // cdk-nag names resources with <AWS::Partition> and <AWS::AccountId>.
  const nagScope = { partition: '<AWS::Partition>', account: '<AWS::AccountId>' };
  acknowledge(role, ...wildcardAcknowledgments(automationRoleStatements(names, regions, targets, nagScope)));
  return role;
}

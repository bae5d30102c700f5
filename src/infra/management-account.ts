import * as cdk from 'aws-cdk-lib';
import { CfnStackSet } from 'aws-cdk-lib/aws-cloudformation';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ResolvedConfig } from '../config/load.js';
import { managementAccountReach } from '../config/management-account.js';
import { InfraError } from './errors.js';
import { acknowledge, logicalIdOf } from './nag.js';
import { OrgStackSet } from './org-stackset.js';

/**
 * IAM service prefix of each CloudFormation resource namespace the member templates use: the
 * execution role may act in these services only. A member template with a namespace missing here
 * fails synth (naming it), not a deploy.
 */
const SERVICE_OF_NAMESPACE: Readonly<Record<string, string>> = {
  IAM: 'iam',
  Lambda: 'lambda',
  Logs: 'logs',
  SecretsManager: 'secretsmanager',
  SSM: 'ssm',
  Events: 'events',
  ResourceGroups: 'resource-groups',
  Scheduler: 'scheduler',
  SQS: 'sqs',
  KMS: 'kms',
};

/** Names of the two roles self-managed StackSets need, in the home (management) account. */
export function managementAccountRoleNames(config: Pick<ResolvedConfig, 'resourcePrefix'>): {
  readonly administration: string;
  readonly execution: string;
} {
  return {
    administration: `${config.resourcePrefix}-stackset-administration`,
    execution: `${config.resourcePrefix}-stackset-execution`,
  };
}

/** Suffix of the self-managed twin of each StackSet (`<stackSetName>-management`). */
export const MANAGEMENT_STACKSET_SUFFIX = '-management';

export interface ManagementAccountMembersProps {
  readonly config: ResolvedConfig;
  /** The StackSets whose member template the management account gets too. */
  readonly stackSets: readonly OrgStackSet[];
  /** Where the member Lambda functions' code is (the execution role reads it to create them). */
  readonly artifacts: s3.IBucket;
}

/**
 * The member-side resources of every feature in the management account itself, when the root stack
 * is there and the root is targeted (`managementAccountReach` = `root-stack`). Service-managed
 * StackSets never deploy to the management account, so each `OrgStackSet` gets a SELF_MANAGED twin
 * (`<name>-management`) with the same template, parameters and regions, targeting this account only:
 * - an administration role CloudFormation assumes only for this account's StackSets named
 *   `<resourcePrefix>-*`, allowed only to assume
 * - an execution role limited to the services the member templates use (derived from them), IAM
 *   limited to roles, CloudFormation to the twins' own stacks;
 * - with `organization.excludeAccounts`, all of it under a condition: nothing is created when the
 *   account deploying it is excluded.
 * Each twin is a child of its StackSet, so it follows the same order (roles before associations,
 * home roles before the EKS execution role). A failed instance in the management account does not
 * roll the organization back when the configured failure tolerance allows failures at all.
 *
 * @example
 * // FalconOrganization, after the features:
 * deployMembersToManagementAccount(this, config, this.artifacts.bucket);
 */
export class ManagementAccountMembers extends Construct {
  readonly administrationRole: iam.Role;
  readonly executionRole: iam.Role;
  /** The twin of each StackSet, by its StackSet's name. */
  readonly stackSets: ReadonlyMap<string, CfnStackSet>;
  /** Set when organization.excludeAccounts is not empty: everything here is created only when it holds. */
  readonly inScope?: cdk.CfnCondition;

  constructor(scope: Construct, id: string, props: ManagementAccountMembersProps) {
    super(scope, id);
    const { config } = props;
    const names = managementAccountRoleNames(config);
    const partition = cdk.Aws.PARTITION;
    const account = cdk.Aws.ACCOUNT_ID;
    const prefix = config.resourcePrefix;

    this.administrationRole = new iam.Role(this, 'Administration', {
      roleName: names.administration,
      description:
        'falcon-org: CloudFormation StackSets administration role for the member resources of the management account',
      assumedBy: new iam.ServicePrincipal('cloudformation.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': account },
        ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudformation:*:${account}:stackset/${prefix}-*` },
      }),
    });
    this.executionRole = new iam.Role(this, 'Execution', {
      roleName: names.execution,
      description:
        'falcon-org: CloudFormation StackSets execution role creating the member resources in the management account',
      assumedBy: new iam.ArnPrincipal(this.administrationRole.roleArn),
    });
    this.administrationRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeTheExecutionRole',
        actions: ['sts:AssumeRole'],
        resources: [`arn:${partition}:iam::${account}:role/${names.execution}`],
      }),
    );
    const { statements, wildcards } = executionStatements(props);
    for (const statement of statements) this.executionRole.addToPolicy(statement);
    acknowledge(
      this.executionRole,
      ...wildcards.map((finding) => ({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason:
          'The execution role creates, updates and deletes the member templates of falcon-org in this account: every action of the services those templates use (derived from them at synth), on resources CloudFormation names at run time; only the administration role, which CloudFormation assumes only for StackSets named after the resource prefix, may assume it.',
      })),
    );

    const twins = new Map<string, CfnStackSet>();
    for (const set of props.stackSets) {
      const source = set.stackSet;
      const twin = new CfnStackSet(set, 'ManagementAccount', {
        stackSetName: `${source.stackSetName}${MANAGEMENT_STACKSET_SUFFIX}`,
        description: `${source.description ?? source.stackSetName} — the management account, which service-managed StackSets never deploy to`,
        permissionModel: 'SELF_MANAGED',
        administrationRoleArn: this.administrationRole.roleArn,
        executionRoleName: names.execution,
        capabilities: ['CAPABILITY_NAMED_IAM'],
        managedExecution: { Active: true },
        operationPreferences: {
          regionConcurrencyType: config.stackSets.regionConcurrency,
          maxConcurrentCount: 1,
          // One account: tolerating its failure is the configured tolerance rounded up, not down to 0.
          failureToleranceCount: config.stackSets.failureTolerancePercentage > 0 ? 1 : 0,
        },
        stackInstancesGroup: [{ deploymentTargets: { accounts: [account] }, regions: [...set.regions] }],
        ...(source.parameters !== undefined ? { parameters: source.parameters } : {}),
        ...(source.templateBody !== undefined ? { templateBody: source.templateBody } : {}),
        ...(source.templateUrl !== undefined ? { templateUrl: source.templateUrl } : {}),
      });
      twin.node.addDependency(this.administrationRole, this.executionRole);
      twins.set(source.stackSetName, twin);
    }
    this.stackSets = twins;

    const excluded = config.organization.excludeAccounts;
    if (excluded.length > 0) {
      this.inScope = new cdk.CfnCondition(this, 'InScope', {
        expression: cdk.Fn.conditionNot(
          cdk.Fn.conditionOr(...excluded.map((e) => cdk.Fn.conditionEquals(account, e))),
        ),
      });
      const conditioned = [...this.node.findAll(), ...twins.values()].filter(
        (c): c is cdk.CfnResource => c instanceof cdk.CfnResource,
      );
      for (const resource of conditioned) resource.cfnOptions.condition = this.inScope;
    }
  }
}

/**
 * The execution role's permissions: the member templates' services, IAM roles, the twins' stacks; and
 * the wildcard findings cdk-nag reports on them (each acknowledged with the reason).
 */
function executionStatements(props: ManagementAccountMembersProps): {
  statements: iam.PolicyStatement[];
  wildcards: string[];
} {
  const partition = cdk.Aws.PARTITION;
  const account = cdk.Aws.ACCOUNT_ID;
  const prefix = props.config.resourcePrefix;
  const services = new Set<string>();
  for (const set of props.stackSets) {
    const resources = (set.memberTemplate['Resources'] ?? {}) as Record<string, { Type?: string }>;
    for (const [logicalId, resource] of Object.entries(resources)) {
      const type = resource.Type ?? '';
      // CloudFormation invokes a custom resource's function with the stack's role.
      const namespace = type.startsWith('Custom::')
        ? 'Lambda'
        : (/^AWS::([A-Za-z0-9]+)::/.exec(type)?.[1] ?? '');
      const service = SERVICE_OF_NAMESPACE[namespace];
      if (service === undefined) {
        throw new InfraError(
          `StackSet ${set.stackSet.stackSetName}: resource ${logicalId} is a ${type}, whose service the management account's execution role does not know; add its namespace to SERVICE_OF_NAMESPACE in src/infra/management-account.ts`,
        );
      }
      services.add(service);
    }
  }
  const stacks = `arn:${partition}:cloudformation:*:${account}:stack/StackSet-${prefix}-*/*`;
  const statements = [
    new iam.PolicyStatement({ sid: 'TheTwinsStacks', actions: ['cloudformation:*'], resources: [stacks] }),
  ];
  const wildcards = [
    'Action::cloudformation:*',
    `Resource::arn:<AWS::Partition>:cloudformation:*:<AWS::AccountId>:stack/StackSet-${prefix}-*/*`,
  ];
  if (services.has('iam')) {
    // Named roles carry the prefix; roles CloudFormation names start with the instance's stack name.
    statements.push(
      new iam.PolicyStatement({
        sid: 'MemberRoles',
        actions: ['iam:*'],
        resources: [
          `arn:${partition}:iam::${account}:role/${prefix}-*`,
          `arn:${partition}:iam::${account}:role/StackSet-*`,
        ],
      }),
    );
    wildcards.push(
      'Action::iam:*',
      `Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/${prefix}-*`,
      'Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/StackSet-*',
    );
  }
  const others = [...services].filter((s) => s !== 'iam').sort();
  if (others.length > 0) {
    const actions = others.map((s) => `${s}:*`);
    statements.push(
      new iam.PolicyStatement({
        sid: 'MemberServices',
        actions: [...actions, 'tag:GetResources', 'tag:TagResources', 'tag:UntagResources'],
        resources: ['*'],
      }),
    );
    wildcards.push(...actions.map((a) => `Action::${a}`), 'Resource::*');
  }
  if (services.has('lambda')) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'MemberFunctionCode',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [props.artifacts.arnForObjects('*')],
      }),
    );
    wildcards.push(`Resource::<${logicalIdOf(props.artifacts)}.Arn>/*`);
  }
  return { statements, wildcards };
}

/**
 * Registers the management account's member resources when this deployment reaches it (see
 * `managementAccountReach`): every `OrgStackSet` under `scope` gets its self-managed twin.
 */
export function deployMembersToManagementAccount(
  scope: Construct,
  config: ResolvedConfig,
  artifacts: s3.IBucket,
): ManagementAccountMembers | undefined {
  if (managementAccountReach(config) !== 'root-stack') return undefined;
  const stackSets = scope.node.findAll().filter((c): c is OrgStackSet => c instanceof OrgStackSet);
  if (stackSets.length === 0) return undefined;
  return new ManagementAccountMembers(scope, 'ManagementAccount', { config, stackSets, artifacts });
}

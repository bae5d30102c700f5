import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { assumeRoleInOrganization } from '../../assume-in-organization.js';
import { acknowledge } from '../../nag.js';

export interface ExecutionRoleProps {
  readonly roleName: string;
  /** Exact ARNs of the home roles that may assume this role (never the account root). */
  readonly trustedRoleArns: readonly string[];
  /** Discovery lists the regions enabled for the account (`discoverEnabledRegions`). */
  readonly listsRegions: boolean;
  /** The deployer may widen a public endpoint's allow-list for a run (`deployer.allowListEgress`). */
  readonly widensAllowList: boolean;
}

/**
 * The member account's EKS execution role: the home `eks-discover`, `eks-event` and deployer roles
 * assume it to read clusters and to give the deployer access to one. It may only manage the access
 * entry of its own principal (the entry the deployer talks to Kubernetes as).
 */
export class ExecutionRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ExecutionRoleProps) {
    super(scope, id);
    const [first, ...rest] = props.trustedRoleArns.map((arn) => new iam.ArnPrincipal(arn));
    if (!first) throw new Error('ExecutionRole needs at least one trusted role');
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description:
        'falcon-org EKS Protection: assumed by the home account to find clusters and deploy Falcon',
      assumedBy: new iam.CompositePrincipal(first, ...rest),
      maxSessionDuration: cdk.Duration.hours(1),
      inlinePolicies: {
        EksProtection: new iam.PolicyDocument({ statements: executionRoleStatements(props) }),
      },
    });
    acknowledge(this.role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'eks:ListClusters (and, when enabled regions are discovered, account:ListRegions and ec2:DescribeRegions) are only authorized on "*"; they are read-only and no other action has this resource.',
    });
    acknowledge(this.role, {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:*:<AWS::AccountId>:access-entry/*/role/<AWS::AccountId>/${props.roleName}/*]`,
      reason:
        "Only this role's own access entry, on any cluster of this account (the entry's ARN ends in an ID EKS chooses).",
    });
    for (const finding of WILDCARD_RESOURCES) {
      acknowledge(this.role, {
        id: `AwsSolutions-IAM5[Resource::${finding}]`,
        reason:
          "Clusters, node groups, Fargate profiles and access entries are found at run time in any region of this account; the ARNs are scoped to this account and, for access entries, to this role's own entry.",
      });
    }
  }
}

const CLUSTER = 'cluster/*';
const NODEGROUP = 'nodegroup/*/*/*';
const FARGATE_PROFILE = 'fargateprofile/*/*/*';

/** The cdk-nag spelling of the wildcard ARNs this role uses. */
const WILDCARD_RESOURCES = [CLUSTER, NODEGROUP, FARGATE_PROFILE].map(
  (r) => `arn:<AWS::Partition>:eks:*:<AWS::AccountId>:${r}`,
);

function eksArn(resource: string): string {
  return `arn:${cdk.Aws.PARTITION}:eks:*:${cdk.Aws.ACCOUNT_ID}:${resource}`;
}

/** Every statement of the execution role, each action on the resources IAM lets it be scoped to. */
export function executionRoleStatements(
  props: Pick<ExecutionRoleProps, 'roleName' | 'listsRegions' | 'widensAllowList'>,
): iam.PolicyStatement[] {
  const ownArn = `arn:${cdk.Aws.PARTITION}:iam::${cdk.Aws.ACCOUNT_ID}:role/${props.roleName}`;
  // An access entry's ARN is access-entry/<cluster>/role/<account>/<role name>/<id>.
  const ownAccessEntries = eksArn(`access-entry/*/role/${cdk.Aws.ACCOUNT_ID}/${props.roleName}/*`);
  const statements = [
    new iam.PolicyStatement({
      sid: 'ListClusters',
      actions: [
        'eks:ListClusters',
        ...(props.listsRegions ? ['account:ListRegions', 'ec2:DescribeRegions'] : []),
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ReadClusters',
      actions: ['eks:DescribeCluster', 'eks:ListNodegroups', 'eks:ListFargateProfiles'],
      resources: [eksArn(CLUSTER)],
    }),
    new iam.PolicyStatement({
      sid: 'ReadCompute',
      actions: ['eks:DescribeNodegroup', 'eks:DescribeFargateProfile'],
      resources: [eksArn(NODEGROUP), eksArn(FARGATE_PROFILE)],
    }),
    new iam.PolicyStatement({
      sid: 'CreateOwnAccessEntry',
      actions: ['eks:CreateAccessEntry'],
      resources: [eksArn(CLUSTER)],
      conditions: { StringEquals: { 'eks:principalArn': ownArn } },
    }),
    new iam.PolicyStatement({
      sid: 'ManageOwnAccessEntry',
      actions: [
        'eks:DescribeAccessEntry',
        'eks:DeleteAccessEntry',
        'eks:AssociateAccessPolicy',
        'eks:DisassociateAccessPolicy',
        'eks:ListAssociatedAccessPolicies',
      ],
      resources: [ownAccessEntries],
    }),
  ];
  if (props.widensAllowList) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'WidenEndpointAllowListForARun',
        // DescribeUpdate: the deployer waits for each endpoint change to finish.
        actions: ['eks:UpdateClusterConfig', 'eks:DescribeUpdate'],
        resources: [eksArn(CLUSTER)],
      }),
    );
  }
  return statements;
}

/** What the home roles may do with the member execution role: see {@link assumeRoleInOrganization}. */
export function assumeExecutionRoleStatement(roleName: string, organizationId: string): iam.PolicyStatement {
  return assumeRoleInOrganization({ sid: 'AssumeMemberExecutionRole', roleName, organizationId });
}

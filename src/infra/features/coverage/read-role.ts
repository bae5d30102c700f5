import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { InfraError } from '../../errors.js';
import { acknowledge } from '../../nag.js';
import { ssmParameterArn } from '../ecr/names.js';

/**
 * Exactly the calls the coverage readers make in a member account (src/coverage, `AccountReader`),
 * as IAM actions. Those that IAM authorizes on the account as a whole (no resource-level
 * permissions in the service authorization reference) are granted on `*`; the rest are scoped.
 */
export const COVERAGE_READ_ACTIONS = {
  /** Listing and describing calls without resource-level permissions. */
  accountWide: [
    'account:ListRegions',
    'ec2:DescribeInstances',
    'eks:ListClusters',
    'ssm:DescribeAutomationExecutions',
    'ssm:DescribeInstanceInformation',
    'ssm:ListAssociations',
    'ssm:ListResourceComplianceSummaries',
    'ssm:DescribeInstanceAssociationsStatus',
  ],
  /** The ECR ownership record of this deployment (one SSM parameter, home region). */
  ownershipRecord: ['ssm:GetParameter'],
} as const;

export interface CoverageReadRoleProps {
  readonly roleName: string;
  /**
   * The exact role ARNs that may assume this role: the home account's coverage function role (a
   * StackSet parameter, resolved in the member stack) and any configured reader roles.
   */
  readonly trustedRoleArns: readonly string[];
  /** Name of the ECR ownership parameter the reader may read. */
  readonly ownershipParameterName: string;
}

/**
 * The read-only coverage role of one account: trusted by nothing but the listed role ARNs, allowed
 * nothing but the reads in {@link COVERAGE_READ_ACTIONS}. No managed policies: ReadOnlyAccess or
 * ViewOnlyAccess would read far more (S3 objects, secrets' metadata, …) than coverage needs.
 */
export class CoverageReadRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: CoverageReadRoleProps) {
    super(scope, id);
    const [first, ...rest] = props.trustedRoleArns;
    if (first === undefined) throw new InfraError('CoverageReadRole needs at least one trusted role ARN');
    const principals = [first, ...rest].map((arn) => new iam.ArnPrincipal(arn));
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: 'Read-only view of this account for the falcon-org coverage report',
      assumedBy: new iam.CompositePrincipal(...principals),
      maxSessionDuration: cdk.Duration.hours(1),
      inlinePolicies: {
        CoverageRead: new iam.PolicyDocument({ statements: readStatements(props.ownershipParameterName) }),
      },
    });
    acknowledge(this.role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only list and describe calls that IAM authorizes on the account as a whole (no resource-level permissions): account:ListRegions, ec2:DescribeInstances, eks:ListClusters, ssm:DescribeAutomationExecutions, ssm:DescribeInstanceInformation, ssm:ListAssociations, ssm:ListResourceComplianceSummaries, ssm:DescribeInstanceAssociationsStatus. Everything else is scoped.',
    });
  }
}

/** The role's statements, each action on exactly the resources it needs. */
export function readStatements(ownershipParameterName: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'ListAndDescribe',
      actions: [...COVERAGE_READ_ACTIONS.accountWide],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ReadEcrOwnershipRecord',
      actions: [...COVERAGE_READ_ACTIONS.ownershipRecord],
      resources: [ssmParameterArn(ownershipParameterName)],
    }),
  ];
}

import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Lets a home role assume a member role by name in any account — accounts are found at run time —
 * but only in accounts of the organization (`aws:ResourceOrgID`: the organization of the account that
 * owns the role being assumed), never a same-named role an outsider created in their own account.
 */
export function assumeRoleInOrganization(props: {
  readonly sid: string;
  readonly roleName: string;
  readonly organizationId: string;
}): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: props.sid,
    actions: ['sts:AssumeRole'],
    resources: [`arn:${cdk.Aws.PARTITION}:iam::*:role/${props.roleName}`],
    conditions: { StringEquals: { 'aws:ResourceOrgID': props.organizationId } },
  });
}

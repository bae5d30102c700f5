import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** A customer managed policy ARN: the part after `policy/` is the policy's path and name. */
const CUSTOMER_POLICY_ARN = /^arn:[a-z-]+:iam::\d{12}:policy\/(.+)$/;

/**
 * The configured permissions boundary as the ARN of a managed policy in the account the role is
 * created in. IAM only accepts a boundary from the role's own account (or an AWS managed policy), so
 * a bare name and the path and name of a customer managed policy ARN both resolve to that policy in
 * the deploying account: the same boundary then works in the home account and in every member
 * account, provided the policy exists there under that name. An AWS managed policy ARN is kept.
 */
export function permissionsBoundaryArn(boundary: string): string {
  const customer = CUSTOMER_POLICY_ARN.exec(boundary);
  if (boundary.startsWith('arn:') && !customer) return boundary;
  const pathAndName = customer?.[1] ?? boundary;
  return `arn:${cdk.Aws.PARTITION}:iam::${cdk.Aws.ACCOUNT_ID}:policy/${pathAndName}`;
}

/**
 * Puts the configured permissions boundary on every IAM role under `scope`, including the raw
 * roles of CDK's own custom resource providers (bucket auto-delete, bucket deployment), which no
 * role property reaches. Does nothing when no boundary is configured.
 */
export function applyPermissionsBoundary(scope: Construct, boundary: string | undefined): void {
  if (!boundary) return;
  const policy = iam.ManagedPolicy.fromManagedPolicyArn(
    scope,
    'PermissionsBoundary',
    permissionsBoundaryArn(boundary),
  );
  iam.PermissionsBoundary.of(scope).apply(policy);
}

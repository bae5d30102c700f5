import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * The configured permissions boundary as the ARN of a managed policy. A bare policy name is taken as
 * a customer managed policy of the account the role is created in (so the same name works in the
 * home account and in every member account).
 */
export function permissionsBoundaryArn(boundary: string): string {
  return boundary.startsWith('arn:')
    ? boundary
    : `arn:${cdk.Aws.PARTITION}:iam::${cdk.Aws.ACCOUNT_ID}:policy/${boundary}`;
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

import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * The configured permissions boundary as a managed policy, or undefined when none is configured. A bare
 * policy name is taken as a customer managed policy of the account the role is created in.
 */
export function permissionsBoundary(
  scope: Construct,
  id: string,
  boundary: string | undefined,
): iam.IManagedPolicy | undefined {
  if (!boundary) return undefined;
  const arn = boundary.startsWith('arn:')
    ? boundary
    : `arn:${cdk.Aws.PARTITION}:iam::${cdk.Aws.ACCOUNT_ID}:policy/${boundary}`;
  return iam.ManagedPolicy.fromManagedPolicyArn(scope, id, arn);
}

import * as cdk from 'aws-cdk-lib';

/** ARN of a role by name in an account of the deploying partition. */
export function roleArn(accountId: string, roleName: string): string {
  return `arn:${cdk.Aws.PARTITION}:iam::${accountId}:role/${roleName}`;
}

/** The central bus's ARN, built from the home account and region (member stacks get the account as a parameter). */
export function eventBusArn(homeRegion: string, homeAccountId: string, busName: string): string {
  return `arn:${cdk.Aws.PARTITION}:events:${homeRegion}:${homeAccountId}:event-bus/${busName}`;
}

import * as cdk from 'aws-cdk-lib';
import type { ResolvedConfig } from '../../../config/load.js';

/** Names of the EKS Protection pieces. Fixed names are the ones other accounts or people refer to. */
export interface EksNames {
  /** StackSet of the member execution role (once per account). */
  readonly rolesStackSet: string;
  /** StackSet of the CreateCluster forwarding rule (per account and region). */
  readonly rulesStackSet: string;
  /** The member execution role: the same name in every account, so the home functions can build its ARN. */
  readonly executionRole: string;
  /** Home roles the member execution role trusts by exact ARN (fixed names, so the ARN is known). */
  readonly discoverRole: string;
  readonly eventRole: string;
  readonly deployerRole: string;
  /** The central event bus member rules forward to. */
  readonly eventBus: string;
  readonly discoverFunction: string;
  readonly eventFunction: string;
  /** The deployer's CodeBuild project (home region); runs are started here, never in a cluster's region. */
  readonly deployerProject: string;
  /** The member accounts' forwarding rule (one per account and region): its role trusts only this rule. */
  readonly forwardingRule: string;
}

export function eksNames(config: ResolvedConfig): EksNames {
  const prefix = config.resourcePrefix;
  return {
    rolesStackSet: `${prefix}-eks-roles`,
    rulesStackSet: `${prefix}-eks-rules`,
    executionRole: `${prefix}-eks-execution`,
    discoverRole: `${prefix}-eks-discover`,
    eventRole: `${prefix}-eks-event`,
    deployerRole: `${prefix}-eks-deployer`,
    eventBus: `${prefix}-eks-events`,
    discoverFunction: `${prefix}-eks-discover`,
    eventFunction: `${prefix}-eks-event`,
    deployerProject: `${prefix}-eks-deployer`,
    forwardingRule: `${prefix}-eks-forward-cluster-events`,
  };
}

/** ARN of a role by name in an account of the deploying partition. */
export function roleArn(accountId: string, roleName: string): string {
  return `arn:${cdk.Aws.PARTITION}:iam::${accountId}:role/${roleName}`;
}

/** The central bus's ARN, built from the home account and region (member stacks get the account as a parameter). */
export function eventBusArn(homeRegion: string, homeAccountId: string, busName: string): string {
  return `arn:${cdk.Aws.PARTITION}:events:${homeRegion}:${homeAccountId}:event-bus/${busName}`;
}

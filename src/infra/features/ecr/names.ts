import * as cdk from 'aws-cdk-lib';
import type { ResolvedConfig } from '../../../config/load.js';

/** Names of the ECR Registry Connections pieces; the same in every member account. */
export interface EcrNames {
  readonly stackSet: string;
  /** The role Falcon assumes to read ECR (fixed, so operators and Falcon support can find it). */
  readonly connectionRole: string;
  /** The `ecr-connect` function (fixed, so an operator can invoke a repair by name). */
  readonly function: string;
  /** SSM parameter the handler keeps its ownership record in (the handler owns it, not CloudFormation). */
  readonly ownershipParameter: string;
  /** The custom resource's `DeploymentId`: identifies the deployment that owns the connections it creates. */
  readonly deploymentId: string;
}

export function ecrNames(config: ResolvedConfig): EcrNames {
  const prefix = config.resourcePrefix;
  return {
    stackSet: `${prefix}-ecr-connections`,
    connectionRole: `${prefix}-ecr-connection`,
    function: `${prefix}-ecr-connect`,
    ownershipParameter: `/${prefix}/ecr-connections/ownership`,
    deploymentId: prefix,
  };
}

/** ARN of an SSM parameter of the deploying account and region (`parameter/` is followed by the name without its leading slash). */
export function ssmParameterArn(name: string): string {
  return `arn:${cdk.Aws.PARTITION}:ssm:${cdk.Aws.REGION}:${cdk.Aws.ACCOUNT_ID}:parameter/${name.replace(/^\//, '')}`;
}

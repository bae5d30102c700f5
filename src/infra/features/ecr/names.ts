import * as cdk from 'aws-cdk-lib';

export { ecrNames, type EcrNames } from '../../../config/names.js';

/** ARN of an SSM parameter of the deploying account and region (`parameter/` is followed by the name without its leading slash). */
export function ssmParameterArn(name: string): string {
  return `arn:${cdk.Aws.PARTITION}:ssm:${cdk.Aws.REGION}:${cdk.Aws.ACCOUNT_ID}:parameter/${name.replace(/^\//, '')}`;
}

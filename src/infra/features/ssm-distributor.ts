import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { ResolvedConfig } from '../../config/load.js';
import {
  CLIENT_ID_PARAMETER,
  CLIENT_SECRET_PARAMETER,
  credentialParameters,
  credentialsSecretObject,
  SECRET_ROTATION_REASON,
} from '../credentials.js';
import { acknowledge } from '../nag.js';
import { memberParameter, OrgStackSet } from '../org-stackset.js';
import type { FeatureContext } from './feature.js';
import { associationProperties } from './ssm-association.js';

/** Names that are the same in every member account and region. */
export function ssmNames(config: ResolvedConfig) {
  const prefix = config.resourcePrefix;
  return {
    roleStackSet: `${prefix}-ssm-role`,
    associationStackSet: `${prefix}-ssm-association`,
    roleName: `${prefix}-ssm-automation`,
    secretName: `${prefix}-falcon-api`,
    associationName: `${prefix}-falcon-sensor`,
  };
}

/**
 * SSM Distributor: installs the Falcon sensor on every SSM-managed instance of every targeted
 * account and region with a State Manager association of `CrowdStrike-FalconSensorDeploy`.
 * - per account (home region): the automation role SSM assumes (it reads the Falcon secret in the
 *   configured SSM regions only; the permissions boundary comes from `OrgStackSet`);
 * - per account × region: the credentials secret and the association.
 */
export class SsmDistributor extends Construct {
  readonly roleStackSet: OrgStackSet;
  readonly associationStackSet: OrgStackSet;

  constructor(scope: Construct, id: string, context: FeatureContext) {
    super(scope, id);
    const { config } = context;
    const names = ssmNames(config);

    this.roleStackSet = new OrgStackSet(this, 'Role', {
      config,
      feature: 'ssmDistributor',
      stackSetName: names.roleStackSet,
      description: 'falcon-org SSM Distributor: automation role State Manager assumes (per account)',
      scope: 'account',
      defineMember: (stack) => automationRole(stack, names, config.derived.ssmRegions),
    });

    const credentials = context.credentials;
    this.associationStackSet = new OrgStackSet(this, 'Association', {
      config,
      feature: 'ssmDistributor',
      stackSetName: names.associationStackSet,
      description:
        'falcon-org SSM Distributor: Falcon API secret and sensor association (per account and region)',
      scope: 'account-region',
      regions: config.derived.ssmRegions,
      parameters: credentialParameters(credentials),
      defineMember: (stack, params) => {
        const secret = new secretsmanager.Secret(stack, 'FalconSecret', {
          secretName: names.secretName,
          description: 'Falcon API credentials read by the CrowdStrike-FalconSensorDeploy automation',
          secretObjectValue: credentialsSecretObject(
            memberParameter(params, CLIENT_ID_PARAMETER),
            memberParameter(params, CLIENT_SECRET_PARAMETER),
            // The Distributor document reads `Cloud` as the API base URL (CrowdStrike documents the
            // value as "the BASE URL" of the API client), so the URL goes here, not the cloud name.
            { Cloud: config.derived.falconBaseUrl },
          ),
          removalPolicy: cdk.RemovalPolicy.DESTROY,
        });
        acknowledge(secret, { id: 'AwsSolutions-SMG4', reason: SECRET_ROTATION_REASON });
        const association = new ssm.CfnAssociation(
          stack,
          'FalconSensorAssociation',
          associationProperties(config.features.ssmDistributor, {
            associationName: names.associationName,
            secretName: names.secretName,
            roleArn: `arn:${cdk.Aws.PARTITION}:iam::${cdk.Aws.ACCOUNT_ID}:role/${names.roleName}`,
          }),
        );
        association.node.addDependency(secret);
      },
    });
    // Roles first: the association names the role, which must exist before its first run.
    this.associationStackSet.node.addDependency(this.roleStackSet);
  }
}

/**
 * The ARN of the Falcon secret in one region of the member account (`??????`: the random suffix
 * Secrets Manager appends). cdk-nag names resources with `<AWS::Partition>` and `<AWS::AccountId>`.
 */
function secretArn(
  region: string,
  secretName: string,
  partition: string = cdk.Aws.PARTITION,
  account: string = cdk.Aws.ACCOUNT_ID,
): string {
  return `arn:${partition}:secretsmanager:${region}:${account}:secret:${secretName}-??????`;
}

/** One role per account serves the association of every SSM region: it reads the secret there and nowhere else. */
function automationRole(
  stack: cdk.Stack,
  names: ReturnType<typeof ssmNames>,
  regions: readonly string[],
): void {
  const role = new iam.Role(stack, 'AutomationRole', {
    roleName: names.roleName,
    description: 'Assumed by State Manager to run CrowdStrike-FalconSensorDeploy',
    assumedBy: new iam.ServicePrincipal('ssm.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': cdk.Aws.ACCOUNT_ID } },
    }),
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonSSMAutomationRole')],
    inlinePolicies: {
      FalconSecretRead: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            effect: iam.Effect.ALLOW,
            actions: ['secretsmanager:GetSecretValue'],
            resources: regions.map((region) => secretArn(region, names.secretName)),
          }),
        ],
      }),
    },
  });
  acknowledge(
    role,
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonSSMAutomationRole]',
      reason:
        'AWS-managed policy intended for State Manager automation; CrowdStrike-FalconSensorDeploy needs its SSM and EC2 permissions to run the Distributor package on targeted instances.',
    },
    ...regions.map((region) => ({
      id: `AwsSolutions-IAM5[Resource::${secretArn(region, names.secretName, '<AWS::Partition>', '<AWS::AccountId>')}]`,
      reason:
        'The secret name is fixed and ?????? stands for the six random characters Secrets Manager appends to it, so only the Falcon secret of this account and region matches.',
    })),
  );
}

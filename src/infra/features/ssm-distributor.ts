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

    const credentials = context.credentialsFor('ssmDistributor');
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

/**
 * What `CrowdStrike-FalconSensorDeploy` (CrowdStrike's published automation document, version 3/4:
 * HandlePreqrequisites → Branch → ExecuteDistributorPackage → HandleCleanup) does with the role, and
 * the action each step needs; read from the document's source as CrowdStrike publishes it:
 * - HandlePreqrequisites (aws:executeScript): `ssm:GetInventory` on the targeted instance IDs (it falls
 *   back to `ssm:DescribeInstanceInformation` when GetInventory is denied) to skip stopped,
 *   terminated and unmanaged instances; then, with SecretStorageMethod SecretsManager,
 *   `secretsmanager:GetSecretValue` on the secret named in SecretsManagerSecretName.
 * - Branch (aws:branch): no AWS call.
 * - ExecuteDistributorPackage (aws:runCommand): `ssm:SendCommand` of the AWS-owned
 *   `AWS-ConfigureAWSPackage` document to the active instances; Automation then polls the command
 *   with `ssm:ListCommands` and `ssm:ListCommandInvocations` until it finishes. The package itself is
 *   fetched by the SSM agent with the instance's own profile, not with this role.
 * - HandleCleanup (aws:executeScript): `secretsmanager:GetSecretValue` again, to revoke the OAuth token.
 * GetInventory, DescribeInstanceInformation, ListCommands and ListCommandInvocations support no
 * resource-level permissions (IAM's service authorization reference), so they take `*`; SendCommand
 * is limited to the one document and to EC2 instances of this account in the SSM regions.
 */
export function automationRoleStatements(
  names: Pick<ReturnType<typeof ssmNames>, 'secretName'>,
  regions: readonly string[],
  partition: string = cdk.Aws.PARTITION,
  account: string = cdk.Aws.ACCOUNT_ID,
): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'InstanceStatusReads',
      effect: iam.Effect.ALLOW,
      actions: ['ssm:GetInventory', 'ssm:DescribeInstanceInformation'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'RunConfigurePackage',
      effect: iam.Effect.ALLOW,
      actions: ['ssm:SendCommand'],
      resources: regions.flatMap((region) => [
        `arn:${partition}:ssm:${region}::document/${CONFIGURE_PACKAGE_DOCUMENT}`,
        `arn:${partition}:ec2:${region}:${account}:instance/*`,
      ]),
    }),
    new iam.PolicyStatement({
      sid: 'CommandStatusReads',
      effect: iam.Effect.ALLOW,
      actions: ['ssm:ListCommands', 'ssm:ListCommandInvocations'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'FalconSecretRead',
      effect: iam.Effect.ALLOW,
      actions: ['secretsmanager:GetSecretValue'],
      resources: regions.map((region) => secretArn(region, names.secretName, partition, account)),
    }),
  ];
}

/** The AWS-owned Run Command document the Falcon automation sends to instances. */
export const CONFIGURE_PACKAGE_DOCUMENT = 'AWS-ConfigureAWSPackage';

/**
 * One role per account serves the association of every SSM region: exactly what the automation
 * document does (see {@link automationRoleStatements}), no AWS-managed policy.
 */
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
    inlinePolicies: {
      FalconSensorDeploy: new iam.PolicyDocument({ statements: automationRoleStatements(names, regions) }),
    },
  });
  const nag = { partition: '<AWS::Partition>', account: '<AWS::AccountId>' };
  acknowledge(
    role,
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ssm:GetInventory, ssm:DescribeInstanceInformation, ssm:ListCommands and ssm:ListCommandInvocations support no resource-level permissions; they only read instance and command status.',
    },
    ...regions.map((region) => ({
      id: `AwsSolutions-IAM5[Resource::arn:${nag.partition}:ec2:${region}:${nag.account}:instance/*]`,
      reason:
        'The association targets instances chosen at run time (all, by tag or resource group); SendCommand is limited to the AWS-ConfigureAWSPackage document and this account and region.',
    })),
    ...regions.map((region) => ({
      id: `AwsSolutions-IAM5[Resource::${secretArn(region, names.secretName, nag.partition, nag.account)}]`,
      reason:
        'The secret name is fixed and ?????? stands for the six random characters Secrets Manager appends to it, so only the Falcon secret of this account and region matches.',
    })),
  );
}

import * as cdk from 'aws-cdk-lib';
import * as resourcegroups from 'aws-cdk-lib/aws-resourcegroups';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssmlib from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ssmNames } from '../../config/names.js';
import {
  CLIENT_ID_PARAMETER,
  CLIENT_SECRET_PARAMETER,
  credentialParameters,
  credentialsSecretObject,
  SECRET_ROTATION_REASON,
} from '../credentials.js';
import { acknowledge } from '../nag.js';
import { addPlanNote } from '../plan-notes.js';
import { memberParameter, OrgStackSet } from '../org-stackset.js';
import type { FeatureContext } from './feature.js';
import { associationProperties, tagTargetGroupQuery } from './ssm-association.js';
import { automationRole } from './ssm-automation-role.js';
import { ssmPlanNotes } from './ssm-plan-notes.js';

export { ssmNames } from '../../config/names.js';

/**
 * SSM Distributor: installs the Falcon sensor on every SSM-managed instance of every targeted
 * account and region with a State Manager association of `CrowdStrike-FalconSensorDeploy`.
 * - per account (home region): the automation role SSM assumes (it reads the Falcon secret in the
 *   configured SSM regions only; the permissions boundary comes from `OrgStackSet`);
 * - per account × region: the credentials secret, the association and, with tag targets, the
 *   resource group of tagged EC2 instances the association targets.
 */
export class SsmDistributor extends Construct {
  readonly roleStackSet: OrgStackSet;
  readonly associationStackSet: OrgStackSet;

  constructor(scope: Construct, id: string, context: FeatureContext) {
    super(scope, id);
    const { config } = context;
    const ssm = config.features.ssmDistributor;
    const names = ssmNames(config);

    this.roleStackSet = new OrgStackSet(this, 'Role', {
      config,
      feature: 'ssmDistributor',
      stackSetName: names.roleStackSet,
      description: 'falcon-org SSM Distributor: automation role State Manager assumes (per account)',
      scope: 'account',
      defineMember: (stack) => {
        automationRole(stack, names, config.derived.ssmRegions, ssm.targets);
      },
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
        const association = new ssmlib.CfnAssociation(
          stack,
          'FalconSensorAssociation',
          associationProperties(ssm, {
            associationName: names.associationName,
            secretName: names.secretName,
            roleArn: `arn:${cdk.Aws.PARTITION}:iam::${cdk.Aws.ACCOUNT_ID}:role/${names.roleName}`,
            targetGroup: names.targetGroup,
          }),
        );
        association.node.addDependency(secret);
        if (ssm.targets.type === 'tags') {
          const group = new resourcegroups.CfnGroup(stack, 'TargetGroup', {
            name: names.targetGroup,
            description: `EC2 instances the ${names.associationName} association installs the Falcon sensor on (by tag)`,
            resourceQuery: tagTargetGroupQuery(ssm.targets.tags),
          });
          association.node.addDependency(group);
        }
      },
    });
    // Roles first: the association names the role, which must exist before its first run.
    this.associationStackSet.node.addDependency(this.roleStackSet);
    for (const note of ssmPlanNotes(ssm, names)) addPlanNote(this, 'ssmDistributor', note);
  }
}

import type { CfnAssociation, CfnAssociationProps } from 'aws-cdk-lib/aws-ssm';
import type { SsmDistributorConfig, SsmTargets } from '../../config/schema.js';

/** CrowdStrike's Distributor automation document, the same name in every region and partition. */
export const FALCON_DEPLOY_DOCUMENT = 'CrowdStrike-FalconSensorDeploy';

/** State Manager targets for the configured selection of instances. */
export function associationTargets(targets: SsmTargets): CfnAssociation.TargetProperty[] {
  switch (targets.type) {
    case 'all':
      return [{ key: 'InstanceIds', values: ['*'] }];
    case 'tags':
      return Object.entries(targets.tags).map(([key, values]) => ({
        key: `tag:${key}`,
        values: [...values],
      }));
    case 'resourceGroup':
      return [{ key: 'resource-groups:Name', values: [targets.name] }];
  }
}

export interface AssociationNames {
  readonly associationName: string;
  readonly secretName: string;
  readonly roleArn: string;
}

/** The association's properties (without its CDK scope), from the feature's settings. */
export function associationProperties(
  ssm: SsmDistributorConfig,
  names: AssociationNames,
): CfnAssociationProps {
  return {
    name: FALCON_DEPLOY_DOCUMENT,
    associationName: names.associationName,
    documentVersion: ssm.documentVersion,
    automationTargetParameterName: 'InstanceIds',
    targets: associationTargets(ssm.targets),
    parameters: {
      Action: [ssm.action],
      SecretStorageMethod: [ssm.secretStorage],
      SecretsManagerSecretName: [names.secretName],
      AutomationAssumeRole: [names.roleArn],
    },
    scheduleExpression: ssm.schedule,
    // State Manager accepts ApplyOnlyAtCronInterval only with a cron schedule; with rate() it is left out.
    ...(ssm.schedule.startsWith('cron(') ? { applyOnlyAtCronInterval: ssm.applyOnlyAtCronInterval } : {}),
    maxErrors: ssm.maxErrors,
    maxConcurrency: ssm.maxConcurrency,
  };
}

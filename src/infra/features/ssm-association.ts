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
      // The association runs an Automation document with rate control (AutomationTargetParameterName),
      // and Automation takes a resource group as `ResourceGroup`; `resource-groups:Name` is the key of
      // Run Command and maintenance windows. Source: AWS Systems Manager API Reference, data type
      // "Target" ("For Automation and Change Manager: Key=ResourceGroup,Values=resource-group-name";
      // "For Run Command and Maintenance Windows: Key=resource-groups:Name,...") and the user guide's
      // "About targets" page for Automation (targeting Resource Groups).
      return [{ key: 'ResourceGroup', values: [targets.name] }];
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

import type { CfnAssociation, CfnAssociationProps } from 'aws-cdk-lib/aws-ssm';
import type { CfnGroup } from 'aws-cdk-lib/aws-resourcegroups';
import type { SsmDistributorConfig, SsmTargets } from '../../config/schema.js';

/** CrowdStrike's Distributor automation document, the same name in every region and partition. */
export const FALCON_DEPLOY_DOCUMENT = 'CrowdStrike-FalconSensorDeploy';

/**
 * The document's target parameter: a required `StringList` of instance IDs (CrowdStrike's
 * official-package README and the document source in CrowdStrike/aws-ssm-distributor). With rate
 * control, State Manager starts one execution per resolved target and puts its ID there; the
 * association itself never passes `InstanceIds` (nor the document's optional `Targets`).
 */
export const TARGET_PARAMETER = 'InstanceIds';

/**
 * State Manager targets for the configured selection of instances. Every kind resolves to EC2
 * instance IDs, which is what the document's `InstanceIds` must hold:
 * - `all`: `InstanceIds=*`, every managed instance of the region.
 * - `resourceGroup`: `ResourceGroup=<name>`, the key Automation takes for rate-controlled runs (SSM API
 *   Reference, data type Target, lists Key=ResourceGroup for Automation and Change Manager; the Run
 *   Command key `resource-groups:Name` would match nothing).
 * - `tags`: `ResourceGroup=<tag group>`, a group of EC2 instances with those tags that the deployment
 *   creates per account and region ({@link tagTargetGroupQuery}). Not `tag:` targets: Automation
 *   resolves those against every resource type carrying the tag (volumes, snapshots, …; CrowdStrike's
 *   maintainer, aws-ssm-distributor issue #77, recommends an instance-only resource group instead), and
 *   with document version 5 tag targets failed every execution with "Missing required parameter:
 *   InstanceIds in user inputs" (aws-ssm-distributor issue #135).
 */
export function associationTargets(targets: SsmTargets, tagGroup: string): CfnAssociation.TargetProperty[] {
  switch (targets.type) {
    case 'all':
      return [{ key: 'InstanceIds', values: ['*'] }];
    case 'tags':
      return [{ key: 'ResourceGroup', values: [tagGroup] }];
    case 'resourceGroup':
      return [{ key: 'ResourceGroup', values: [targets.name] }];
  }
}

/**
 * The resource query of the group that tag targets become: running or not, EC2 instances only, with
 * every configured tag key having one of its values (Resource Groups: values of one key are OR-ed,
 * keys are AND-ed).
 */
export function tagTargetGroupQuery(
  tags: Readonly<Record<string, readonly string[]>>,
): CfnGroup.ResourceQueryProperty {
  return {
    type: 'TAG_FILTERS_1_0',
    query: {
      resourceTypeFilters: ['AWS::EC2::Instance'],
      tagFilters: Object.entries(tags).map(([key, values]) => ({ key, values: [...values] })),
    },
  };
}

export interface AssociationNames {
  readonly associationName: string;
  readonly secretName: string;
  readonly roleArn: string;
  /** The group tag targets become (used only with `targets.type: tags`). */
  readonly targetGroup: string;
}

/**
 * The document's parameters from the settings. Install options are passed only when set: the document
 * defaults each to an empty string (no flags; the package's default version, N-1).
 */
export function associationParameters(
  ssm: SsmDistributorConfig,
  names: Pick<AssociationNames, 'secretName' | 'roleArn'>,
): Record<string, string[]> {
  const optional: [string, string | undefined][] = [
    ['LinuxInstallerParams', ssm.linuxInstallerParams],
    ['WindowsInstallerParams', ssm.windowsInstallerParams],
    ['LinuxPackageVersion', ssm.linuxPackageVersion],
    ['WindowsPackageVersion', ssm.windowsPackageVersion],
  ];
  return {
    Action: [ssm.action],
    SecretStorageMethod: [ssm.secretStorage],
    SecretsManagerSecretName: [names.secretName],
    AutomationAssumeRole: [names.roleArn],
    ...Object.fromEntries(
      optional
        .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '')
        .map(([key, value]) => [key, [value]]),
    ),
  };
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
    automationTargetParameterName: TARGET_PARAMETER,
    targets: associationTargets(ssm.targets, names.targetGroup),
    parameters: associationParameters(ssm, names),
    scheduleExpression: ssm.schedule,
    // State Manager accepts ApplyOnlyAtCronInterval only with a cron schedule; with rate() it is left out.
    ...(ssm.schedule.startsWith('cron(') ? { applyOnlyAtCronInterval: ssm.applyOnlyAtCronInterval } : {}),
    ...(ssm.complianceSeverity !== undefined ? { complianceSeverity: ssm.complianceSeverity } : {}),
    maxErrors: ssm.maxErrors,
    maxConcurrency: ssm.maxConcurrency,
  };
}

import type { SsmDistributorConfig } from '../../config/schema.js';
import { RETIRED_DOCUMENT_VERSIONS } from '../../config/ssm-schema.js';
import { FALCON_DEPLOY_DOCUMENT } from './ssm-association.js';
import { CONFIGURE_PACKAGE_DOCUMENT } from './ssm-automation-role.js';

/** What `plan` says about the association beyond its resources: version, targets, install options. */
export function ssmPlanNotes(
  ssm: SsmDistributorConfig,
  names: { readonly associationName: string; readonly targetGroup: string },
): string[] {
  const version = ssm.documentVersion;
  const versionNote =
    version === '$DEFAULT'
      ? "$DEFAULT (CrowdStrike's current default version, resolved at each run)"
      : version === '$LATEST'
        ? '$LATEST (the newest version, resolved at each run)'
        : `${version} (pinned${RETIRED_DOCUMENT_VERSIONS.has(version) ? '; retired by CrowdStrike, see validate' : ''})`;
  const installOptions = [
    ['LinuxInstallerParams', quoted(ssm.linuxInstallerParams, 'none')],
    ['WindowsInstallerParams', quoted(ssm.windowsInstallerParams, 'none')],
    ['LinuxPackageVersion', ssm.linuxPackageVersion ?? 'package default (N-1)'],
    ['WindowsPackageVersion', ssm.windowsPackageVersion ?? 'package default (N-1)'],
  ]
    .map(([key, value]) => `${key} ${value}`)
    .join('; ');
  return [
    `association ${names.associationName}: ${FALCON_DEPLOY_DOCUMENT} version ${versionNote}, action ${ssm.action}, targets ${targetsNote(ssm, names.targetGroup)}`,
    `install options: ${installOptions}; ComplianceSeverity ${ssm.complianceSeverity ?? "UNSPECIFIED (State Manager's default)"}`,
    `automation role: may run only ${FALCON_DEPLOY_DOCUMENT} and ${CONFIGURE_PACKAGE_DOCUMENT} (to this account's instances), read the Falcon secret, and read instance, command and automation status`,
  ];
}

function targetsNote(ssm: SsmDistributorConfig, tagGroup: string): string {
  const targets = ssm.targets;
  switch (targets.type) {
    case 'all':
      return 'every SSM-managed instance';
    case 'tags': {
      const tags = Object.entries(targets.tags)
        .map(([key, values]) => `${key}=${values.join('|')}`)
        .join(' and ');
      return `EC2 instances tagged ${tags} (resource group ${tagGroup}, created in each account and region)`;
    }
    case 'resourceGroup':
      return `resource group ${targets.name} (must exist in each account and region, EC2 instances only)`;
  }
}

function quoted(value: string | undefined, otherwise: string): string {
  return value === undefined || value === '' ? otherwise : JSON.stringify(value);
}

import type { ParsedConfig } from './schema.js';
import { RETIRED_DOCUMENT_VERSIONS } from './ssm-schema.js';

/** A setting that is valid but probably not what is wanted: where it is and why, with the fix. */
export interface ConfigWarning {
  readonly path: string;
  readonly message: string;
}

/** Warnings about a valid configuration (`validate` prints them; they never fail it). */
export function configWarnings(config: ParsedConfig): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const ssm = config.features.ssmDistributor;
  if (ssm.enabled && RETIRED_DOCUMENT_VERSIONS.has(ssm.documentVersion)) {
    warnings.push({
      path: 'features.ssmDistributor.documentVersion',
      message: `version ${ssm.documentVersion} of CrowdStrike-FalconSensorDeploy is retired by CrowdStrike (it runs on Python 3.7, which AWS no longer offers to Automation scripts, and installs the old per-platform packages); remove the setting to use "$DEFAULT", or pin "3" or later`,
    });
  }
  return warnings;
}

export function formatWarning(w: ConfigWarning): string {
  return `warning: ${w.path}: ${w.message}`;
}

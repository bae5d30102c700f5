import * as cdk from 'aws-cdk-lib';
import type { ResolvedConfig } from '../../../config/load.js';
import type { EksFunctionSettings } from '../../../eks/run-contract.js';

/**
 * The `EksFunctionSettings` of `eks-discover` and `eks-event`, from the configuration. The home
 * account is the deploying account (a CloudFormation pseudo parameter: synth needs no credentials).
 */
export function eksFunctionSettings(config: ResolvedConfig, executionRoleName: string): EksFunctionSettings {
  const eks = config.features.eksProtection;
  return {
    partition: config.aws.partition,
    homeAccountId: cdk.Aws.ACCOUNT_ID,
    homeRegion: config.aws.homeRegion,
    targets: [...config.organization.targets],
    excludeAccounts: [...config.organization.excludeAccounts],
    regions: eks.discoverEnabledRegions ? 'enabled' : [...config.derived.eksRegions],
    executionRoleName,
    concurrency: eks.concurrency,
    lockTtlSeconds: eks.lockTtlMinutes * 60,
    ...(eks.minKubernetesVersion !== undefined ? { minKubernetesVersion: eks.minKubernetesVersion } : {}),
    retry: { ...eks.rollout.retry },
    ...(eks.rollout.concurrentBuilds !== undefined ? { concurrentBuilds: eks.rollout.concurrentBuilds } : {}),
  };
}

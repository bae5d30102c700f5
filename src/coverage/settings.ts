import { ConfigError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import { managementAccountReach } from '../config/management-account.js';
import { coverageNames, ecrNames, ssmNames, type CoverageNames } from '../config/names.js';
import type { CoverageFeature, FeatureRegions } from './model.js';
import type { CoverageFunctionSettings } from './publish-environment.js';

/** The function's settings from the configuration (nothing secret). */
export function coverageSettings(
  config: ResolvedConfig,
  names: CoverageNames = coverageNames(config),
): CoverageFunctionSettings {
  const { features } = config;
  const regions: Record<CoverageFeature, FeatureRegions> = {
    ssmDistributor: config.derived.ssmRegions,
    eksProtection: config.derived.eksRegions,
    ecrConnections: config.derived.ecrRegions.length > 0 ? config.derived.ecrRegions : 'enabled',
  };
  const reported =
    config.coverage.features ??
    (['ssmDistributor', 'eksProtection', 'ecrConnections'] as const).filter((f) => features[f].enabled);
  if (reported.length === 0) {
    throw new ConfigError('configuration', [
      {
        path: 'coverage.enabled',
        expected:
          'expected at least one feature to report: enable a feature under features, list the ones to report in coverage.features, or set coverage.enabled to false',
        given: 'true with no feature enabled',
      },
    ]);
  }
  return {
    partition: config.aws.partition,
    homeRegion: config.aws.homeRegion,
    targets: [...config.organization.targets],
    excludeAccounts: [...config.organization.excludeAccounts],
    features: Object.fromEntries(reported.map((f) => [f, regions[f]])),
    falcon: {
      cloud: config.falcon.cloud,
      ...(config.falcon.baseUrl !== undefined ? { baseUrl: config.falcon.baseUrl } : {}),
    },
    associationName: ssmNames(config).associationName,
    deploymentId: ecrNames(config).deploymentId,
    readRoleName: names.readRole,
    ownershipParameterName: ecrNames(config).ownershipParameter,
    concurrency: config.coverage.concurrency,
    hostStaleAfterHours: config.coverage.hostStaleAfterHours,
    managementAccount: managementAccountReach(config),
  };
}

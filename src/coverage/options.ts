import { UserInputError } from '../config/errors.js';
import { COVERAGE_FEATURES, type CoverageFeature, type CoverageOptions } from './model.js';
import type { CoverageFunctionSettings } from './publish-environment.js';

/** What `falcon-org status` was asked for, besides the configuration. */
export interface StatusRequest {
  readonly features?: readonly string[];
  readonly accounts?: readonly string[];
  /** Name of the EKS runs table (the root stack's output). */
  readonly runsTable?: string;
}

/**
 * The report options for a configuration: the same settings the scheduled function is given
 * (src/coverage/settings.ts `coverageSettings`), narrowed by `--feature` and `--account`.
 * Throws UserInputError naming the flag and the fix.
 */
export function coverageOptionsFor(
  settings: CoverageFunctionSettings,
  request: StatusRequest,
): CoverageOptions {
  const reported = COVERAGE_FEATURES.filter((f) => settings.features[f] !== undefined);
  let features = reported;
  if (request.features !== undefined && request.features.length > 0) {
    const unknown = request.features.filter((f) => !(COVERAGE_FEATURES as readonly string[]).includes(f));
    if (unknown.length > 0) {
      throw new UserInputError(
        `--feature ${unknown.join(', ')}: expected one of ${COVERAGE_FEATURES.join(', ')}`,
      );
    }
    const off = request.features.filter((f) => !(reported as readonly string[]).includes(f));
    if (off.length > 0) {
      throw new UserInputError(
        `--feature ${off.join(', ')}: not enabled in this configuration (features.<name>.enabled, or coverage.features); reported: ${reported.join(', ') || 'none'}`,
      );
    }
    features = reported.filter((f) => request.features?.includes(f) === true);
  }
  if (features.length === 0) {
    throw new UserInputError(
      'no feature to report: enable at least one of features.ssmDistributor, eksProtection, ecrConnections',
    );
  }
  const badAccounts = (request.accounts ?? []).filter((a) => !/^\d{12}$/.test(a));
  if (badAccounts.length > 0) {
    throw new UserInputError(`--account ${badAccounts.join(', ')}: expected a 12-digit AWS account ID`);
  }
  const picked: Partial<Record<CoverageFeature, CoverageFunctionSettings['features'][CoverageFeature]>> = {};
  for (const f of features) picked[f] = settings.features[f];
  return {
    scope: {
      partition: settings.partition,
      homeRegion: settings.homeRegion,
      targets: settings.targets,
      excludeAccounts: settings.excludeAccounts,
    },
    features: picked,
    associationName: settings.associationName,
    deploymentId: settings.deploymentId,
    concurrency: settings.concurrency,
    hostStaleAfterHours: settings.hostStaleAfterHours,
    ...(settings.managementAccount !== undefined ? { managementAccount: settings.managementAccount } : {}),
    ...(request.accounts !== undefined && request.accounts.length > 0 ? { accounts: request.accounts } : {}),
  };
}

/**
 * What the StackSets' operation preferences mean for a deploy, in words: `plan` shows it so the
 * failure tolerance is a decision, not a surprise. Read from the synthesized StackSet resources.
 */
export interface PlanRollout {
  readonly maxConcurrentPercentage: number;
  readonly failureTolerancePercentage: number;
  readonly regionConcurrency: string;
  readonly concurrencyMode: string;
  readonly explanation: readonly string[];
}

/** `OperationPreferences` of an `AWS::CloudFormation::StackSet` resource, as synthesized. */
export interface OperationPreferences {
  readonly MaxConcurrentPercentage?: number;
  readonly FailureTolerancePercentage?: number;
  readonly RegionConcurrencyType?: string;
  readonly ConcurrencyMode?: string;
}

export function rolloutOf(preferences: OperationPreferences): PlanRollout {
  const max = preferences.MaxConcurrentPercentage ?? 0;
  const tolerance = preferences.FailureTolerancePercentage ?? 0;
  const regionConcurrency = preferences.RegionConcurrencyType ?? 'SEQUENTIAL';
  const concurrencyMode = preferences.ConcurrencyMode ?? 'STRICT_FAILURE_TOLERANCE';
  const tolerated = (accounts: number) => Math.floor((accounts * tolerance) / 100);
  const explanation = [
    `Each StackSet operation works on up to ${max}% of a region's targeted accounts at once (at least one)` +
      (concurrencyMode === 'SOFT_FAILURE_TOLERANCE'
        ? ', however many fail'
        : ', fewer as failures approach the tolerance (STRICT_FAILURE_TOLERANCE: at most tolerance + 1 at once)') +
      `; regions ${regionConcurrency === 'PARALLEL' ? 'in parallel' : 'one after another'}.`,
    tolerance === 0
      ? 'Failure tolerance 0%: one account that cannot take its stack instance stops the operation and fails the ' +
        'StackSet, and the root stack rolls back (on a first deploy that deletes every StackSet and instance).'
      : `Failure tolerance ${tolerance}% per region, rounded down to whole accounts (${[5, 10, 100]
          .map((n) => `${tolerated(n)} of ${n}`)
          .join(', ')}): up to that many accounts may fail and the rest still deploy; one more stops the ` +
        'operation in that region and fails the StackSet, and the root stack rolls back.',
    'Accounts that fail within the tolerance stay without that StackSet\'s resources; "falcon-org deploy" names ' +
      'each with its region and reason and exits 1. Fix the cause and deploy again; new accounts are deployed to ' +
      'automatically when they join a targeted OU.',
  ];
  return {
    maxConcurrentPercentage: max,
    failureTolerancePercentage: tolerance,
    regionConcurrency,
    concurrencyMode,
    explanation,
  };
}

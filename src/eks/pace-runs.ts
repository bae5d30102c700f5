/**
 * Starting a sweep's runs paced to CodeBuild: the runs a sweep decided on are started in order of
 * need — new clusters (never protected) first, then runs asked for, retries, changed desired state,
 * coverage repairs — while the builds in flight stay under the limit (src/eks/build-capacity.ts).
 * What does not fit is deferred: no lock is taken, nothing is recorded against the cluster, and the
 * next look at its account (the discovery queue, a few minutes later, or the next sweep) decides again.
 */
import { limiter } from '../fanout/concurrency.js';
import type { BuildCapacity, BuildLimit, BuildsInFlight } from './build-capacity.js';
import type { ComputeMode, RunMode } from './run-contract.js';
import type { RunDecision, RunDecisionCode } from './run-decision.js';
import type { ClusterRef } from './runs-table.js';
import type { RunStart } from './start-run.js';

/** A run a sweep wants to start. */
export interface WantedRun {
  readonly ref: ClusterRef;
  readonly compute: ComputeMode;
  /** `repair`: undo what a killed run left on a cluster that gets no install run. */
  readonly mode: Extract<RunMode, 'install' | 'repair'>;
  /** Why (absent: no desired state to compare with, every eligible cluster is built). */
  readonly decision?: RunDecision;
}

/** Lower first. A cluster nobody protects yet comes before one that is only out of date. */
const PRIORITY: Readonly<Record<RunDecisionCode, number>> = {
  'never-protected': 0,
  requested: 1,
  retry: 2,
  changed: 3,
  repair: 4,
  'backing-off': 9,
  'up-to-date': 9,
  deferred: 9,
};

function priority(run: WantedRun): number {
  if (run.mode === 'repair') return 1; // a killed run's leftovers (cluster-admin) go early
  return run.decision ? PRIORITY[run.decision.code] : 3;
}

/** Orders the runs by need, stable within the same need (report order). */
export function byNeed(runs: readonly WantedRun[]): WantedRun[] {
  return runs
    .map((run, i) => ({ run, i }))
    .sort((a, b) => priority(a.run) - priority(b.run) || a.i - b.i)
    .map((x) => x.run);
}

export interface PacedStarts {
  /** One per wanted run, same order as given. */
  readonly starts: readonly RunStart[];
  /** Builds in flight before the sweep started any, and the limit (absent: nothing to start). */
  readonly inFlightBefore?: number;
  readonly limit?: number;
  readonly limitSource?: string;
}

/**
 * Starts the wanted runs, most needed first, never with more builds in flight than the limit; the
 * rest come back `deferred` with "deferred: CodeBuild at N of N builds". A run CodeBuild itself
 * refused for capacity (after its retries) stops the starting: CodeBuild is full, whatever we counted.
 */
export async function paceRuns(
  wanted: readonly WantedRun[],
  capacity: BuildCapacity | undefined,
  start: (run: WantedRun) => Promise<RunStart>,
  concurrency: number,
  now: () => number = Date.now,
): Promise<PacedStarts> {
  if (wanted.length === 0) return { starts: [] };
  if (!capacity) return startWithin(wanted, start, concurrency, undefined);
  // Counting the builds in flight and starting what fits is one step no two invocations take at once.
  const turn = await capacity.exclusively(async (until) => {
    const read = await capacity.limit();
    const builds = await capacity.inFlight();
    return startWithin(wanted, start, concurrency, { ...read, ...builds, until, now });
  });
  if (turn !== 'busy') return turn.value;
  // Not our turn: nothing starts; a cluster whose build is in flight already says so.
  const builds = await capacity.inFlight();
  const busy: RunStart = {
    status: 'deferred',
    reason:
      'deferred: another discovery invocation is starting builds; started at the next look at the account',
  };
  return {
    starts: wanted.map((run) => (builds.holds?.(run.ref) === true ? { status: 'in-progress' } : busy)),
  };
}

/** Starts the runs, most needed first, while the builds in flight stay under the limit (none: unpaced). */
async function startWithin(
  wanted: readonly WantedRun[],
  start: (run: WantedRun) => Promise<RunStart>,
  concurrency: number,
  paced: (BuildLimit & BuildsInFlight & { readonly until: number; readonly now: () => number }) | undefined,
): Promise<PacedStarts> {
  const starts = new Map<WantedRun, RunStart>();
  const limit = paced?.limit ?? Number.POSITIVE_INFINITY;
  const source = paced?.source ?? 'unpaced';
  let inFlight = paced?.count ?? 0;
  const before = inFlight;
  let full = false;
  const deferred = (): RunStart => ({
    status: 'deferred',
    reason: `deferred: CodeBuild at ${Math.min(inFlight, limit)} of ${limit} builds (${source}); started when builds finish, at the next look at the account`,
  });
  const slots = limiter(Math.max(1, concurrency));
  await Promise.all(
    byNeed(wanted).map((run) =>
      slots(async () => {
        // Its own build is in flight already (another invocation started it): nothing to start or defer.
        if (paced?.holds?.(run.ref) === true) {
          starts.set(run, { status: 'in-progress' });
          return;
        }
        if (full || inFlight >= limit) {
          starts.set(run, deferred());
          return;
        }
        if (paced !== undefined && paced.now() > paced.until) {
          starts.set(run, {
            status: 'deferred',
            reason:
              "deferred: this sweep's turn to start builds ran out; started at the next look at the account",
          });
          return;
        }
        inFlight += 1; // taken before the call: runs started concurrently never overshoot
        const started = await start(run);
        if (started.status !== 'started') inFlight -= 1; // no build: the slot is free again
        if (started.status === 'deferred' && paced) full = true; // paced: CodeBuild is full
        starts.set(run, started);
      }),
    ),
  );
  return {
    starts: wanted.map((w) => starts.get(w) ?? deferred()),
    inFlightBefore: before,
    ...(paced ? { limit, limitSource: source } : {}),
  };
}

/**
 * Discovery of every cluster in a set of accounts: per account the member role is assumed once, the
 * regions resolved, and every region's clusters read, judged and recorded; eligible clusters get a
 * deployer run. Every account, region and cluster ends with a status and, when not ok, a reason; one
 * failing or slow account never fails or stalls the others.
 *
 * Calls are bounded twice: by a global in-flight limit (the invocation's budget) and by an adaptive
 * limit per account (each account has its own API rates; its throttling lowers only its own limit).
 */
import type { CredentialProvider } from '../aws/account-credentials.js';
import { isRegionNotEnabledError, regionsForAccount, type EnabledRegions } from '../aws/account-regions.js';
import { KeyedAdaptiveLimiters, type AdaptiveLimiterOptions } from '../fanout/adaptive.js';
import { limiter, type Limiter } from '../fanout/concurrency.js';
import { settleEach } from '../fanout/outcome.js';
import type { ClusterApi } from './cluster-api.js';
import { clusterFacts } from './cluster-facts.js';
import {
  countReport,
  type AccountReport,
  type ClusterReport,
  type DiscoveryReport,
  type RegionReport,
} from './report.js';
import type { DesiredState, ComputeMode } from './run-contract.js';
import { decideRun, type CoverageSignal, type RetryBackoff, type RunDecision } from './run-decision.js';
import type { BuildCapacity } from './build-capacity.js';
import { paceRuns, type WantedRun } from './pace-runs.js';
import type { ClusterRef, RunStateTable, RunsTable } from './runs-table.js';
import type { RunStart, RunStarter } from './start-run.js';
import { judgeCluster, type VerdictOptions } from './verdict.js';
import { describeError } from '../shared/describe-error.js';

/** The member-account side: credentials assumed once per account. */
export interface MemberCredentials {
  /** Assumes (or reuses) the account's role; rejects when the account cannot be entered. */
  get(accountId: string): Promise<unknown>;
  provider(accountId: string): CredentialProvider;
}

export interface DiscoveryDeps {
  readonly credentials: MemberCredentials;
  readonly enabledRegions: EnabledRegions;
  /** EKS of one account and region, signed with the account's (shared) credentials. */
  readonly clusterApi: (accountId: string, region: string, credentials: CredentialProvider) => ClusterApi;
  readonly table: RunsTable & RunStateTable;
  readonly runs: RunStarter;
  /** Paces the sweep's builds to CodeBuild (absent: every wanted run is started). */
  readonly capacity?: BuildCapacity;
}

export interface DiscoverySettings extends VerdictOptions {
  /** Configured regions, or "enabled" for every region enabled in each account. */
  readonly regions: readonly string[] | 'enabled';
  /** Calls in flight across the whole invocation. */
  readonly concurrency: number;
  /** Adaptive limit per account (tuning and tests). @default { initial: 2, max: 8 } */
  readonly perAccount?: AdaptiveLimiterOptions;
  /** Shared with other work of the same invocation, if any. @default a limiter of `concurrency` */
  readonly calls?: Limiter;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * The desired state of a cluster with the given compute (src/cluster/desired-state.ts over the
   * deployer's settings). Absent: no desired state to compare with, every eligible cluster is built.
   */
  readonly desired?: (compute: ComputeMode) => DesiredState;
  /** Backoff of failing clusters and coverage repairs. @default DEFAULT_RETRY */
  readonly retry?: RetryBackoff;
  /** What the last coverage report said about a cluster's nodes (the closed loop), if it says. */
  readonly coverage?: (ref: ClusterRef) => CoverageSignal | undefined;
}

/**
 * Discovers the given accounts. When `signal` aborts (the invocation's time is running out) accounts
 * not yet started end `not-started`, for the caller to hand on; accounts in progress finish.
 */
export async function discoverAccounts(
  accountIds: readonly string[],
  deps: DiscoveryDeps,
  settings: DiscoverySettings,
  signal?: AbortSignal,
): Promise<DiscoveryReport> {
  const now = settings.now ?? Date.now;
  const started = now();
  const perAccount = new KeyedAdaptiveLimiters(settings.perAccount ?? { initial: 2, max: 8 });
  const calls = settings.calls ?? limiter(settings.concurrency);
  const call = <R>(accountId: string, fn: () => Promise<R>): Promise<R> =>
    perAccount.run(accountId, () => calls(fn));

  // Accounts in flight: more than call slots, because a throttled account spaces its calls and
  // leaves its slot idle between them; the call limiter still bounds what is in flight.
  const wanted = new Map<ClusterReport, WantedRun>();
  const outcomes = await settleEach(
    accountIds,
    Math.max(1, settings.concurrency * ACCOUNTS_PER_CALL_SLOT),
    (accountId) => discoverAccount(accountId, deps, settings, call, wanted),
    describeError,
    signal,
  );
  const found: AccountReport[] = outcomes.map((o) => {
    if (o.status === 'ok') return o.value;
    if (o.status === 'failed') return { accountId: o.item, status: 'failed', reason: o.reason, regions: [] };
    return { accountId: o.item, status: 'not-started', regions: [] };
  });
  const accounts = await startWanted(found, wanted, deps, settings);
  return {
    accounts,
    counts: countReport(accounts),
    throttled: perAccount.throttled,
    durationMs: now() - started,
  };
}

/** Accounts started per call slot (see discoverAccounts). */
const ACCOUNTS_PER_CALL_SLOT = 4;

type Call = <R>(accountId: string, fn: () => Promise<R>) => Promise<R>;

/** Clusters that want a run, by their report (filled while discovering, started afterwards). */
type Wanted = Map<ClusterReport, WantedRun>;

async function discoverAccount(
  accountId: string,
  deps: DiscoveryDeps,
  settings: DiscoverySettings,
  call: Call,
  wanted: Wanted,
): Promise<AccountReport> {
  try {
    await call(accountId, () => deps.credentials.get(accountId)); // once per account, every region shares it
  } catch (error) {
    return {
      accountId,
      status: 'failed',
      reason: `could not enter the account: ${describeError(error)}`,
      regions: [],
    };
  }
  const credentials = deps.credentials.provider(accountId);
  let plan: string[];
  try {
    plan = await call(accountId, () =>
      regionsForAccount(accountId, settings.regions, deps.enabledRegions, credentials),
    );
  } catch (error) {
    return {
      accountId,
      status: 'failed',
      reason: `could not list the account's enabled regions: ${describeError(error)}`,
      regions: [],
    };
  }
  const outcomes = await settleEach(
    plan,
    plan.length || 1,
    (region) =>
      discoverRegion(
        accountId,
        region,
        deps.clusterApi(accountId, region, credentials),
        deps,
        settings,
        call,
        wanted,
      ),
    describeError,
  );
  const regions: RegionReport[] = outcomes.map((o) =>
    o.status === 'ok'
      ? o.value
      : {
          region: o.item,
          status: 'failed',
          reason: o.status === 'failed' ? o.reason : 'not started',
          clusters: [],
        },
  );
  const failed = regions.filter((r) => r.status === 'failed').length;
  return {
    accountId,
    status: failed > 0 && failed === plan.length ? 'failed' : 'ok',
    ...(failed > 0 ? { reason: `${failed} of ${plan.length} regions failed` } : {}),
    regions,
  };
}

async function discoverRegion(
  accountId: string,
  region: string,
  api: ClusterApi,
  deps: DiscoveryDeps,
  settings: DiscoverySettings,
  call: Call,
  wanted: Wanted,
): Promise<RegionReport> {
  let names: string[];
  try {
    names = await call(accountId, () => api.listClusters());
  } catch (error) {
    if (isRegionNotEnabledError(error)) {
      return {
        region,
        status: 'not-enabled',
        reason: `not enabled in this account (opt-in region; ${describeError(error)}); enable it to have it covered`,
        clusters: [],
      };
    }
    return {
      region,
      status: 'failed',
      reason: `could not list clusters: ${describeError(error)}`,
      clusters: [],
    };
  }
  const outcomes = await settleEach(
    names,
    names.length || 1,
    (name) => discoverCluster(accountId, region, name, api, deps, settings, call, wanted),
    describeError,
  );
  const clusters: ClusterReport[] = outcomes.map((o) =>
    o.status === 'ok'
      ? o.value
      : { cluster: o.item, status: 'failed', reason: o.status === 'failed' ? o.reason : 'not started' },
  );
  return { region, status: 'ok', clusters };
}

async function discoverCluster(
  accountId: string,
  region: string,
  name: string,
  api: ClusterApi,
  deps: DiscoveryDeps,
  settings: DiscoverySettings,
  call: Call,
  wanted: Wanted,
): Promise<ClusterReport> {
  const [cluster, nodegroups, fargate] = await Promise.all([
    call(accountId, () => api.describeCluster(name)),
    call(accountId, () => api.listNodegroups(name)),
    call(accountId, () => api.listFargateProfiles(name)),
  ]);
  const facts = clusterFacts(cluster, nodegroups, fargate);
  const verdict = judgeCluster(facts, settings);
  const ref = { accountId, region, cluster: name };
  const item = await deps.table.get(ref);
  if (verdict.kind !== 'eligible') {
    await deps.table.recordJudgement(ref, verdict, undefined);
    // An install run undoes what a killed run left first; a cluster that gets none (no longer
    // eligible) gets a run that only does that, once the killed run's lock has run out.
    const report: ClusterReport = { cluster: name, status: 'ok', facts, verdict };
    if (item?.clusterChanges !== undefined)
      wanted.set(report, { ref, compute: facts.compute, mode: 'repair' });
    return report;
  }
  if (!settings.desired) {
    await deps.table.recordVerdict(ref, verdict);
    const report: ClusterReport = { cluster: name, status: 'ok', facts, verdict };
    wanted.set(report, { ref, compute: facts.compute, mode: 'install' });
    return report;
  }
  const now = (settings.now ?? Date.now)();
  const coverage = settings.coverage?.(ref);
  const decision = decideRun({
    item,
    desired: settings.desired(facts.compute),
    now,
    ...(settings.retry ? { retry: settings.retry } : {}),
    ...(coverage ? { coverage } : {}),
  });
  await deps.table.recordJudgement(ref, verdict, decision, {
    resetRepairStreak: coverage === 'reporting' && (item?.repairStreak ?? 0) > 0,
  });
  const report: ClusterReport = { cluster: name, status: 'ok', facts, verdict, decision };
  if (!decision.build) return report;
  // Its own run is still going: nothing to start or to pace (a follow-up is queued again).
  if (item?.lockRunId !== undefined && (item.lockExpiresAt ?? 0) >= Math.floor(now / 1000)) {
    return { ...report, run: { status: 'in-progress', heldBy: item.lockRunId } };
  }
  wanted.set(report, { ref, compute: facts.compute, mode: 'install', decision });
  return report;
}

/**
 * Starts the runs the sweep wants, paced to CodeBuild (src/eks/pace-runs.ts), and puts each start in
 * its cluster's report; a deferred cluster's decision says so, in the report and the runs table.
 */
async function startWanted(
  accounts: readonly AccountReport[],
  wanted: Wanted,
  deps: DiscoveryDeps,
  settings: DiscoverySettings,
): Promise<AccountReport[]> {
  if (wanted.size === 0) return [...accounts];
  const reports = [...wanted.keys()];
  const runs = [...wanted.values()];
  const now = (settings.now ?? Date.now)();
  const paced = await paceRuns(
    runs,
    deps.capacity,
    (run) =>
      run.mode === 'repair' || !run.decision
        ? deps.runs.start(run.ref, run.compute, run.mode)
        : startFor(deps, run.ref, run.compute, run.decision, now),
    settings.concurrency,
    settings.now ?? Date.now,
  );
  const done = new Map<ClusterReport, ClusterReport>();
  await Promise.all(
    reports.map(async (report, i) => {
      const run = paced.starts[i];
      const want = runs[i];
      if (!run || !want) return;
      let decision = report.decision;
      if (run.status === 'deferred' && decision && report.verdict) {
        decision = { build: false, code: 'deferred', reason: `${run.reason}; wanted: ${decision.reason}` };
        await deps.table
          .recordJudgement(want.ref, report.verdict, { code: decision.code, reason: decision.reason })
          .catch(() => undefined); // informational: the next look decides again
      }
      done.set(report, { ...report, ...(decision ? { decision } : {}), run });
    }),
  );
  return accounts.map((a) => ({
    ...a,
    regions: a.regions.map((r) => ({ ...r, clusters: r.clusters.map((c) => done.get(c) ?? c) })),
  }));
}

/** Starts the run a decision asked for and records why (a repair lengthens the repair streak). */
export async function startFor(
  deps: Pick<DiscoveryDeps, 'table' | 'runs'>,
  ref: ClusterRef,
  compute: ComputeMode,
  decision: RunDecision,
  now: number,
): Promise<RunStart> {
  const run = await deps.runs.start(ref, compute);
  if (run.status === 'started') {
    await deps.table
      .recordRunTrigger(ref, { runId: run.runId, reason: decision.code, at: new Date(now).toISOString() })
      .catch(() => undefined); // informational: the run goes on without it
  }
  return run;
}

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
  const outcomes = await settleEach(
    accountIds,
    Math.max(1, settings.concurrency * ACCOUNTS_PER_CALL_SLOT),
    (accountId) => discoverAccount(accountId, deps, settings, call),
    describeError,
    signal,
  );
  const accounts: AccountReport[] = outcomes.map((o) => {
    if (o.status === 'ok') return o.value;
    if (o.status === 'failed') return { accountId: o.item, status: 'failed', reason: o.reason, regions: [] };
    return { accountId: o.item, status: 'not-started', regions: [] };
  });
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

async function discoverAccount(
  accountId: string,
  deps: DiscoveryDeps,
  settings: DiscoverySettings,
  call: Call,
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
    (name) => discoverCluster(accountId, region, name, api, deps, settings, call),
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
    if (item?.clusterChanges === undefined) return { cluster: name, status: 'ok', facts, verdict };
    const run = await deps.runs.start(ref, facts.compute, 'repair');
    return { cluster: name, status: 'ok', facts, verdict, run };
  }
  if (!settings.desired) {
    await deps.table.recordVerdict(ref, verdict);
    const run = await deps.runs.start(ref, facts.compute);
    return { cluster: name, status: 'ok', facts, verdict, run };
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
  if (!decision.build) return { cluster: name, status: 'ok', facts, verdict, decision };
  const run = await startFor(deps, ref, facts.compute, decision, now);
  return { cluster: name, status: 'ok', facts, verdict, decision, run };
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

import type { SkippedAccount } from '../aws/organization-scope.js';
import type { ClusterFacts } from './cluster-facts.js';
import type { ClusterVerdict } from './run-contract.js';
import type { RunDecision } from './run-decision.js';
import type { RunStart } from './start-run.js';
import { VERDICT_CODES } from './verdict.js';

/** What happened to one cluster. */
export interface ClusterReport {
  readonly cluster: string;
  readonly status: 'ok' | 'failed';
  /** Why the cluster could not be read or judged (status failed). */
  readonly reason?: string;
  readonly facts?: ClusterFacts;
  readonly verdict?: ClusterVerdict;
  /** Eligible clusters: whether a run was wanted, and why (absent: no desired state to compare with). */
  readonly decision?: RunDecision;
  /** Absent when no run was asked for (ineligible, up to date, backing off, or failed before). */
  readonly run?: RunStart;
}

export interface RegionReport {
  readonly region: string;
  /** not-enabled: a configured opt-in region the account has not enabled (not called). */
  readonly status: 'ok' | 'failed' | 'not-enabled' | 'not-started';
  readonly reason?: string;
  readonly clusters: readonly ClusterReport[];
}

export interface AccountReport {
  readonly accountId: string;
  /** not-started: the invocation's time ran out first; the account was handed to the next one. */
  readonly status: 'ok' | 'failed' | 'not-started';
  readonly reason?: string;
  readonly regions: readonly RegionReport[];
}

export interface DiscoveryCounts {
  readonly accounts: number;
  readonly accountsFailed: number;
  readonly accountsNotStarted: number;
  readonly regions: number;
  readonly regionsFailed: number;
  readonly clusters: number;
  readonly clustersFailed: number;
  readonly eligible: number;
  readonly ineligible: number;
  readonly runsStarted: number;
  readonly runsInProgress: number;
  readonly runsFailed: number;
  /** Eligible clusters whose run was not started because the deployment is being destroyed. */
  readonly runsStopped: number;
  /** Clusters tagged out of EKS Protection (verdict opted-out). */
  readonly optedOut: number;
  /** Eligible clusters left alone: their desired state is already there. */
  readonly upToDate: number;
  /** Eligible clusters left alone: their last runs failed and the backoff has not elapsed. */
  readonly backingOff: number;
  /** Builds CodeBuild refused for capacity after every retry: not cluster failures, started next sweep. */
  readonly runsDeferred: number;
}

export interface DiscoveryReport {
  readonly accounts: readonly AccountReport[];
  /** Accounts under the targets but left out (excluded, not ACTIVE); only where scope was resolved. */
  readonly skippedAccounts?: readonly SkippedAccount[];
  /** Accounts a queue message named that are not in scope: never entered. */
  readonly outOfScopeAccounts?: readonly string[];
  readonly counts: DiscoveryCounts;
  /** Throttling answers absorbed by backoff (none of them failed an item unless a reason says so). */
  readonly throttled: number;
  readonly durationMs: number;
}

export function countReport(accounts: readonly AccountReport[]): DiscoveryCounts {
  let regions = 0;
  let regionsFailed = 0;
  let clusters = 0;
  let clustersFailed = 0;
  let eligible = 0;
  let ineligible = 0;
  let runsStarted = 0;
  let runsInProgress = 0;
  let runsFailed = 0;
  let runsStopped = 0;
  let optedOut = 0;
  let upToDate = 0;
  let backingOff = 0;
  let runsDeferred = 0;
  for (const a of accounts) {
    for (const r of a.regions) {
      if (r.status === 'ok' || r.status === 'failed') regions += 1;
      if (r.status === 'failed') regionsFailed += 1;
      for (const c of r.clusters) {
        clusters += 1;
        if (c.status === 'failed') clustersFailed += 1;
        if (c.verdict?.kind === 'eligible') eligible += 1;
        if (c.verdict?.kind === 'ineligible') ineligible += 1;
        if (c.run?.status === 'started') runsStarted += 1;
        if (c.run?.status === 'in-progress') runsInProgress += 1;
        if (c.run?.status === 'failed') runsFailed += 1;
        if (c.run?.status === 'stopped') runsStopped += 1;
        if (c.verdict?.code === VERDICT_CODES.optedOut) optedOut += 1;
        if (c.decision?.code === 'up-to-date') upToDate += 1;
        if (c.decision?.code === 'backing-off') backingOff += 1;
        if (c.run?.status === 'deferred') runsDeferred += 1;
      }
    }
  }
  return {
    accounts: accounts.length,
    accountsFailed: accounts.filter((a) => a.status === 'failed').length,
    accountsNotStarted: accounts.filter((a) => a.status === 'not-started').length,
    regions,
    regionsFailed,
    clusters,
    clustersFailed,
    eligible,
    ineligible,
    runsStarted,
    runsInProgress,
    runsFailed,
    runsStopped,
    optedOut,
    upToDate,
    backingOff,
    runsDeferred,
  };
}

/** One line for CloudFormation's Reason and logs. */
export function summarize(report: DiscoveryReport): string {
  const c = report.counts;
  const parts = [
    `${c.accounts} accounts (${c.accountsFailed} failed${c.accountsNotStarted ? `, ${c.accountsNotStarted} queued for the next invocation` : ''})`,
    `${c.regions} regions (${c.regionsFailed} failed)`,
    `${c.clusters} clusters: ${c.eligible} eligible, ${c.ineligible} ineligible (${c.optedOut} opted out by tag), ${c.clustersFailed} unreadable`,
    `runs: ${c.runsStarted} started, ${c.upToDate} up to date, ${c.backingOff} backing off, ${c.runsInProgress} already in progress, ${c.runsFailed} failed to start${c.runsDeferred ? `, ${c.runsDeferred} deferred (CodeBuild at its quota)` : ''}${c.runsStopped ? `, ${c.runsStopped} not started (deployment being destroyed)` : ''}`,
  ];
  return parts.join('; ');
}

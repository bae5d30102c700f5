/**
 * One discover invocation: a sweep (deploy time, schedule) resolves the organization scope and
 * discovers what it can before its time runs out; a batch (an SQS message) discovers the accounts it
 * names that are in the organization scope. Accounts not started in time go to the discovery queue
 * for the next invocation. Each account's outcome is written to the runs table beside the
 * clusters' verdicts. Nothing is discovered while the deployment is being destroyed.
 */
import type { Scope } from '../aws/organization-scope.js';
import { discoverAccounts, type DiscoveryDeps, type DiscoverySettings } from './discover.js';
import { DEFERRED_DELAY_SECONDS, FOLLOW_UP_DELAY_SECONDS, type DiscoveryQueue } from './discovery-queue.js';
import { countReport, type AccountReport, type DiscoveryReport } from './report.js';
import type { AccountOutcome } from './run-contract.js';
import { describeError } from '../shared/describe-error.js';

export type DiscoveryInput =
  { readonly kind: 'sweep' } | { readonly kind: 'batch'; readonly accounts: readonly string[] };

export interface RunDiscoveryDeps extends DiscoveryDeps {
  readonly scope: () => Promise<Scope>;
  /** Absent: nothing can be handed on; unstarted accounts are reported as such. */
  readonly queue?: DiscoveryQueue;
}

export interface RunDiscoverySettings extends DiscoverySettings {
  /** @default 25 */
  readonly accountsPerMessage?: number;
}

export interface DiscoveryRun {
  readonly report: DiscoveryReport;
  /** Why nothing was discovered: the deployment is being destroyed. */
  readonly stopped?: string;
  /** Accounts handed to the queue for another invocation. */
  readonly queuedAccounts: number;
  readonly queuedMessages: number;
  /** Why unstarted accounts could not be queued (they are then retried by the next sweep). */
  readonly queueError?: string;
}

export async function runDiscovery(
  input: DiscoveryInput,
  deps: RunDiscoveryDeps,
  settings: RunDiscoverySettings,
  signal?: AbortSignal,
): Promise<DiscoveryRun> {
  const mark = await deps.table.destroying();
  if (mark) {
    return {
      report: { accounts: [], counts: countReport([]), throttled: 0, durationMs: 0 },
      queuedAccounts: 0,
      queuedMessages: 0,
      stopped: `the deployment is being destroyed (since ${mark.since}, by ${mark.by}); nothing was discovered or started`,
    };
  }
  const scope = await deps.scope();
  let accounts: readonly string[];
  let skipped: Scope['skipped'] | undefined;
  let outOfScope: string[] = [];
  if (input.kind === 'sweep') {
    accounts = scope.accounts.map((a) => a.id);
    skipped = scope.skipped;
  } else {
    // A queue message is input from outside this invocation: only accounts of the configured scope
    // (under the targets, ACTIVE, not excluded) are entered, whatever the message names.
    const inScope = new Set(scope.accounts.map((a) => a.id));
    accounts = input.accounts.filter((a) => inScope.has(a));
    outOfScope = input.accounts.filter((a) => !inScope.has(a));
  }
  const found = await discoverAccounts(accounts, deps, settings, signal);
  const report: DiscoveryReport = {
    ...found,
    ...(skipped ? { skippedAccounts: skipped } : {}),
    ...(outOfScope.length > 0 ? { outOfScopeAccounts: outOfScope } : {}),
  };

  const now = new Date((settings.now ?? Date.now)()).toISOString();
  await Promise.all(
    report.accounts
      .filter((a) => a.status !== 'not-started')
      .map((a) => deps.table.recordAccount(accountOutcome(a, now)).catch(() => undefined)),
  );

  // A follow-up an event asked for met the lock again: look again after the delay.
  const waiting = report.accounts
    .filter((a) =>
      a.regions.some((r) =>
        r.clusters.some((c) => c.decision?.code === 'requested' && c.run?.status === 'in-progress'),
      ),
    )
    .map((a) => a.accountId);
  if (waiting.length > 0 && deps.queue) {
    await deps.queue
      .send(waiting, settings.accountsPerMessage ?? 25, FOLLOW_UP_DELAY_SECONDS)
      .catch(() => undefined); // the follow-up stays recorded: the next sweep serves it
  }

  // Runs that did not fit under CodeBuild's quota: look again once some builds have finished.
  const deferred = report.accounts
    .filter((a) => a.regions.some((r) => r.clusters.some((c) => c.run?.status === 'deferred')))
    .map((a) => a.accountId)
    .filter((a) => !waiting.includes(a));
  if (deferred.length > 0 && deps.queue) {
    await deps.queue
      .send(deferred, settings.accountsPerMessage ?? 25, DEFERRED_DELAY_SECONDS)
      .catch(() => undefined); // nothing is lost: the next sweep decides again
  }

  const unstarted = report.accounts.filter((a) => a.status === 'not-started').map((a) => a.accountId);
  if (unstarted.length === 0) return { report, queuedAccounts: 0, queuedMessages: 0 };
  if (!deps.queue) {
    return { report, queuedAccounts: 0, queuedMessages: 0, queueError: 'no discovery queue is configured' };
  }
  try {
    const messages = await deps.queue.send(unstarted, settings.accountsPerMessage ?? 25);
    return { report, queuedAccounts: unstarted.length, queuedMessages: messages };
  } catch (error) {
    return { report, queuedAccounts: 0, queuedMessages: 0, queueError: describeError(error) };
  }
}

function accountOutcome(a: AccountReport, discoveredAt: string): AccountOutcome {
  return {
    accountId: a.accountId,
    status: a.status === 'failed' ? 'failed' : 'ok',
    ...(a.reason ? { reason: a.reason } : {}),
    regions: a.regions
      .filter((r) => r.status !== 'ok')
      .map((r) => ({ region: r.region, status: r.status, ...(r.reason ? { reason: r.reason } : {}) })),
    clusters: a.regions.reduce((n, r) => n + r.clusters.length, 0),
    discoveredAt,
  };
}

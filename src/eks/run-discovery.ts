/**
 * One discover invocation: a sweep (deploy time, schedule) resolves the organization scope and
 * discovers what it can before its time runs out; a batch (an SQS message) discovers the accounts it
 * names. Accounts not started in time go to the discovery queue for the next invocation. Each
 * account's outcome is written to the runs table beside the clusters' verdicts.
 */
import type { Scope } from '../aws/organization-scope.js';
import { discoverAccounts, type DiscoveryDeps, type DiscoverySettings } from './discover.js';
import type { DiscoveryQueue } from './discovery-queue.js';
import type { AccountReport, DiscoveryReport } from './report.js';
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
  let accounts: readonly string[];
  let skipped: Scope['skipped'] | undefined;
  if (input.kind === 'sweep') {
    const scope = await deps.scope();
    accounts = scope.accounts.map((a) => a.id);
    skipped = scope.skipped;
  } else {
    accounts = input.accounts;
  }
  const found = await discoverAccounts(accounts, deps, settings, signal);
  const report: DiscoveryReport = skipped ? { ...found, skippedAccounts: skipped } : found;

  const now = new Date((settings.now ?? Date.now)()).toISOString();
  await Promise.all(
    report.accounts
      .filter((a) => a.status !== 'not-started')
      .map((a) => deps.table.recordAccount(accountOutcome(a, now)).catch(() => undefined)),
  );

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

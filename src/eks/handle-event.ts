/**
 * One cluster event, end to end: validate, scope check, read the cluster under the member role,
 * judge it (a cluster still CREATING counts: the deployer waits for ACTIVE), record the verdict and,
 * when eligible, start a run unless one is already in progress (the runs-table lock makes duplicate
 * events and discovery overlapping an event start one run, not two).
 */
import type { CredentialProvider } from '../aws/account-credentials.js';
import { AdaptiveLimiter } from '../fanout/adaptive.js';
import type { ClusterApi } from './cluster-api.js';
import { parseClusterEvent, type ClusterEvent } from './cluster-event.js';
import { clusterFacts, type ClusterFacts } from './cluster-facts.js';
import type { MemberCredentials } from './discover.js';
import type { ClusterVerdict } from './run-contract.js';
import type { RunsTable } from './runs-table.js';
import type { RunStart, RunStarter } from './start-run.js';
import { judgeCluster, type VerdictOptions } from './verdict.js';

export interface EventDeps {
  /** Whether the account is in scope (targets, ACTIVE, not excluded). */
  readonly inScope: (accountId: string) => Promise<boolean>;
  readonly credentials: MemberCredentials;
  readonly clusterApi: (accountId: string, region: string, credentials: CredentialProvider) => ClusterApi;
  readonly table: RunsTable;
  readonly runs: RunStarter;
}

export interface EventSettings extends VerdictOptions {
  readonly regions: readonly string[] | 'enabled';
  /** Backoff of the member-account calls (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export type EventOutcome =
  /** Malformed: logged and dropped, never retried. */
  | { readonly action: 'dropped'; readonly reason: string }
  /** Well-formed but not ours to act on (out of scope, failed API call). */
  | { readonly action: 'ignored'; readonly event: ClusterEvent; readonly reason: string }
  | {
      readonly action: 'judged';
      readonly event: ClusterEvent;
      readonly facts: ClusterFacts;
      readonly verdict: ClusterVerdict;
      readonly run?: RunStart;
    };

export async function handleClusterEvent(
  raw: unknown,
  deps: EventDeps,
  settings: EventSettings,
): Promise<EventOutcome> {
  const parsed = parseClusterEvent(raw);
  if (!parsed.ok) return { action: 'dropped', reason: parsed.reason };
  const event = parsed.event;
  if (event.errorCode) {
    return {
      action: 'ignored',
      event,
      reason: `the ${event.kind} call failed (${event.errorCode}); nothing was created`,
    };
  }
  if (settings.regions !== 'enabled' && !settings.regions.includes(event.region)) {
    return {
      action: 'ignored',
      event,
      reason: `region ${event.region} is not one of the configured EKS regions`,
    };
  }
  if (!(await deps.inScope(event.accountId))) {
    return {
      action: 'ignored',
      event,
      reason: `account ${event.accountId} is not in scope (not under the targets, excluded, or not ACTIVE)`,
    };
  }
  const mark = await deps.table.destroying();
  if (mark) {
    return {
      action: 'ignored',
      event,
      reason: `the deployment is being destroyed (since ${mark.since}, by ${mark.by}); no run is started`,
    };
  }
  const throttle = new AdaptiveLimiter({ max: 3, ...(settings.sleep ? { sleep: settings.sleep } : {}) });
  await throttle.run(() => deps.credentials.get(event.accountId));
  const api = deps.clusterApi(event.accountId, event.region, deps.credentials.provider(event.accountId));
  let read: [Awaited<ReturnType<ClusterApi['describeCluster']>>, string[], string[]];
  try {
    read = await Promise.all([
      throttle.run(() => api.describeCluster(event.cluster)),
      throttle.run(() => api.listNodegroups(event.cluster)),
      throttle.run(() => api.listFargateProfiles(event.cluster)),
    ]);
  } catch (error) {
    // Deleted again before we looked: nothing to protect, and a retry would not change that.
    if (error instanceof Error && error.name === 'ResourceNotFoundException') {
      return { action: 'ignored', event, reason: `cluster ${event.cluster} no longer exists` };
    }
    throw error;
  }
  const [cluster, nodegroups, fargate] = read;
  const facts = clusterFacts(cluster, nodegroups, fargate);
  const verdict = judgeCluster(facts, { ...settings, acceptCreating: true });
  const ref = { accountId: event.accountId, region: event.region, cluster: event.cluster };
  await deps.table.recordVerdict(ref, verdict);
  if (verdict.kind !== 'eligible') return { action: 'judged', event, facts, verdict };
  const run = await deps.runs.start(ref, facts.compute);
  return { action: 'judged', event, facts, verdict, run };
}

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
import { startFor, type MemberCredentials } from './discover.js';
import { FOLLOW_UP_DELAY_SECONDS, type DiscoveryQueue } from './discovery-queue.js';
import type { ClusterVerdict } from './run-contract.js';
import { RUN_DECISION_CODES, type RunDecision } from './run-decision.js';
import type { RunStateTable, RunsTable } from './runs-table.js';
import type { RunStart, RunStarter } from './start-run.js';
import { judgeCluster, type VerdictOptions } from './verdict.js';

export interface EventDeps {
  /** Whether the account is in scope (targets, ACTIVE, not excluded). */
  readonly inScope: (accountId: string) => Promise<boolean>;
  readonly credentials: MemberCredentials;
  readonly clusterApi: (accountId: string, region: string, credentials: CredentialProvider) => ClusterApi;
  readonly table: RunsTable & RunStateTable;
  readonly runs: RunStarter;
  /** The discovery queue: a follow-up looks at the account again after a delay. */
  readonly queue?: DiscoveryQueue;
}

export interface EventSettings extends VerdictOptions {
  readonly regions: readonly string[] | 'enabled';
  /** Backoff of the member-account calls (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  readonly now?: () => number;
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
      readonly decision?: RunDecision;
      readonly run?: RunStart;
      /** The lock was held: a follow-up run was recorded (and the account queued to look again). */
      readonly followUp?: string;
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
  if (verdict.kind !== 'eligible') {
    await deps.table.recordVerdict(ref, verdict);
    return { action: 'judged', event, facts, verdict };
  }
  // An event always asks for a run: what it changed (a Fargate profile) is not in the desired state.
  const now = (settings.now ?? Date.now)();
  const decision: RunDecision = {
    build: true,
    code: RUN_DECISION_CODES.requested,
    reason: `run asked for: ${event.kind} event`,
  };
  await deps.table.recordJudgement(ref, verdict, decision);
  const run = await startFor(deps, ref, facts.compute, decision, now);
  if (run.status !== 'in-progress') return { action: 'judged', event, facts, verdict, decision, run };
  // Another run holds the lock: what this event changed may not be in it. Keep the request, and
  // look at the account again after the delay (the next sweep serves it otherwise).
  const followUp = `${event.kind} event while run ${run.heldBy ?? '(unknown)'} held the lock`;
  await deps.table.requestFollowUp(ref, followUp);
  let queued = false;
  if (deps.queue) {
    queued = await deps.queue
      .send([event.accountId], 1, FOLLOW_UP_DELAY_SECONDS)
      .then(() => true)
      .catch(() => false);
  }
  return {
    action: 'judged',
    event,
    facts,
    verdict,
    decision,
    run,
    followUp: `${followUp}: a follow-up run starts after it (${queued ? `the account is looked at again in ${FOLLOW_UP_DELAY_SECONDS / 60} minutes` : 'by the next sweep'})`,
  };
}

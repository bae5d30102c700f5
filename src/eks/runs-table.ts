/**
 * The runs table (DynamoDB, home account): one item per cluster holding the run lock, the last
 * verdict, the last run result and whether Falcon was ever installed; one item saying whether the
 * deployment is being destroyed. Layout: `RUNS_TABLE` in ./run-contract.ts.
 *
 * Why a hand-written conditional write and not Powertools for AWS Lambda's idempotency utility:
 * Powertools makes one Lambda invocation idempotent — the same invocation (same payload key) takes
 * the record, and the same function completes it with its own return value. Our lock is taken by
 * one process (the discover or event Lambda) and released by another (the CodeBuild deployer, which
 * is not a Lambda), its key is the cluster and not the payload (a CreateCluster event and a
 * discovery sweep for the same cluster must exclude each other), and the release carries a
 * `RunResult` the coverage report reads. That is a lease, which one conditional write expresses
 * directly: `attribute_not_exists(lockRunId) OR lockExpiresAt < :now`.
 *
 * Example:
 * ```ts
 * const table = new DynamoRunsTable(DynamoDBDocumentClient.from(new DynamoDBClient({})), 'falcon-org-eks-runs');
 * const lock = await table.takeLock({ accountId, region, cluster }, runId, 3600);
 * if (lock.taken) { ...start the run... } else { ...a run is in progress: lock.heldBy... }
 * ```
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildUpdate, type ItemUpdate, type UpdateCondition } from '../aws/dynamo-update.js';
import { RunsTableError } from './errors.js';
import {
  accountKey,
  clusterKey,
  DEPLOYMENT_KEY,
  PACING_KEY,
  RUNS_TABLE,
  type AccountOutcome,
  type ClusterChanges,
  type ClusterVerdict,
  type DestroyingMark,
  type ProtectedState,
  type RunResult,
  type RunTrigger,
} from './run-contract.js';
import { runStateUpdate } from './run-state.js';

/** Which cluster an item is about. */
export interface ClusterRef {
  readonly accountId: string;
  readonly region: string;
  readonly cluster: string;
}

/** One item of the runs table, as read back. */
export interface RunsTableItem extends ClusterRef {
  readonly lockRunId?: string;
  /** Epoch seconds. */
  readonly lockExpiresAt?: number;
  readonly verdict?: ClusterVerdict;
  readonly verdictAt?: string;
  readonly lastRun?: RunResult;
  /** The last `repair` run's result (kept apart from `lastRun`). */
  readonly lastRepair?: RunResult;
  /** What a run changed on the cluster and has not undone yet (a killed run left it). */
  readonly clusterChanges?: ClusterChanges;
  readonly updatedAt?: string;
  /** When an install run last began writing to the cluster (Falcon may be on it since). */
  readonly falconInstalledAt?: string;
  /** When an uninstall run last removed Falcon (absent again after the next install). */
  readonly falconRemovedAt?: string;
  /** The desired state the last good install run left (absent: never protected, or uninstalled). */
  readonly protectedState?: ProtectedState;
  /** Install runs that failed or were not reachable since the last good one. */
  readonly failureStreak?: number;
  /** Runs started because coverage said the nodes do not report, since they last all did. */
  readonly repairStreak?: number;
  /** Why the run pacer started the last run. */
  readonly lastTrigger?: RunTrigger;
  /** What the last sweep or event decided for the cluster, and why. */
  readonly decision?: DecisionRecord;
  /** A run an event asked for while another run held the lock (src/eks/run-decision.ts). */
  readonly followUp?: { readonly reason: string; readonly at: string };
}

/** A sweep's or event's decision as the runs table keeps it (`decision`). */
export interface DecisionRecord {
  /** `RunDecisionCode` (src/eks/run-decision.ts). */
  readonly code: string;
  /** "up to date since …", "backing off until …", "queued: …". */
  readonly reason: string;
  readonly at: string;
}

export interface ListOptions {
  /**
   * A strongly consistent scan: every write acknowledged before it is seen (destroy needs this to
   * see every lock taken before its mark). @default false
   */
  readonly consistent?: boolean;
}

export type LockAttempt =
  | { readonly taken: true; readonly runId: string; readonly expiresAt: number }
  | { readonly taken: false; readonly heldBy?: string; readonly expiresAt?: number };

export type ReleaseOutcome =
  /** The lock was ours; it is gone and the result is recorded. */
  | 'released'
  /** The lock was no longer ours (it expired and another run took it, or it was never taken); the
   * result is still recorded unless a newer run's result is already there. */
  | 'not-held';

/** The port the cores use; `DynamoRunsTable` is the adapter, tests may use their own. */
export interface RunsTable {
  takeLock(ref: ClusterRef, runId: string, ttlSeconds: number): Promise<LockAttempt>;
  releaseLock(result: RunResult): Promise<ReleaseOutcome>;
  recordVerdict(ref: ClusterRef, verdict: ClusterVerdict): Promise<void>;
  get(ref: ClusterRef): Promise<RunsTableItem | undefined>;
  list(options?: ListOptions): Promise<RunsTableItem[]>;
  /** Records how an account's discovery ended (one item per account, replaced each time). */
  recordAccount(outcome: AccountOutcome): Promise<void>;
  listAccounts(): Promise<AccountOutcome[]>;
  /** Frees a lock this run took without recording a result (nothing was started). False: not ours. */
  abandonLock(ref: ClusterRef, runId: string): Promise<boolean>;
  /** Before an install run first writes to the cluster: Falcon may be on it from now on. */
  recordFalconInstalled(ref: ClusterRef, runId: string): Promise<void>;
  /** An uninstall run removed Falcon from the cluster. */
  recordFalconRemoved(ref: ClusterRef, runId: string): Promise<void>;
  /** Marks the whole deployment as being destroyed: install runs no longer start. */
  markDestroying(mark: DestroyingMark): Promise<void>;
  /** Lifts the mark (a destroy that stopped before deleting anything). */
  clearDestroying(): Promise<void>;
  /** The mark, when the deployment is being destroyed (strongly consistent read). */
  destroying(): Promise<DestroyingMark | undefined>;
}

/**
 * The pacing lease: one discovery invocation at a time counts the builds in flight and starts its
 * own, so invocations running at once never pass the limit together. The lock of the `PACING_KEY`
 * item, taken and released like a cluster's.
 */
export interface PacingLeaseTable {
  /** True when taken (free, or the last holder's lease expired). */
  takePacingLease(holder: string, ttlSeconds: number): Promise<boolean>;
  /** Frees it if `holder` still holds it. */
  releasePacingLease(holder: string): Promise<void>;
}

/**
 * What the deployer keeps in the runs table about what it changes on a cluster (`clusterChanges`),
 * and how a `repair` run releases its lock. Every write is made only while the run holds the
 * cluster's lock.
 */
export interface ClusterChangesTable {
  /** What a run recorded before changing the cluster and has not undone yet, if anything. */
  readClusterChanges(ref: ClusterRef): Promise<ClusterChanges | undefined>;
  /** Records (replaces) what the run `changes.runId` is about to change: `lock-lost` when it no longer holds the lock. */
  recordClusterChanges(ref: ClusterRef, changes: ClusterChanges): Promise<'recorded' | 'lock-lost'>;
  /** Forgets the record once the run has undone it. */
  clearClusterChanges(ref: ClusterRef, runId: string): Promise<'cleared' | 'lock-lost'>;
  /** Releases the lock of a `repair` run, keeping its result in `lastRepair` (not `lastRun`). */
  releaseRepairLock(result: RunResult): Promise<ReleaseOutcome>;
}

/**
 * The desired-state side of the runs table (`RunStateTable` beside `RunsTable`): what a sweep or an
 * event decided for a cluster, and why the run pacer started a run. The results themselves move the
 * record when the lock is released (src/eks/run-state.ts).
 */
export interface RunStateTable {
  /**
   * Records the verdict and, for an eligible cluster, the decision in one write (no decision:
   * the previous one is removed). `resetRepairStreak`: coverage saw every node report since the last run.
   */
  recordJudgement(
    ref: ClusterRef,
    verdict: ClusterVerdict,
    decision: Omit<DecisionRecord, 'at'> | undefined,
    options?: { readonly resetRepairStreak?: boolean },
  ): Promise<void>;
  /**
   * After the run pacer took the lock: why it starts the run (a `repair` lengthens the repair
   * streak). `lock-lost` when `trigger.runId` no longer holds the lock.
   */
  recordRunTrigger(ref: ClusterRef, trigger: RunTrigger): Promise<'recorded' | 'lock-lost'>;
  /**
   * An event met a held lock: keeps the request (`followUp`, the latest wins) for the next sweep or
   * discovery batch of the account, which starts the run once the holder is done.
   */
  requestFollowUp(ref: ClusterRef, reason: string): Promise<void>;
}

const A = RUNS_TABLE.attributes;

/** The condition under which a lock may be taken: nobody holds it, or the holder's lease ran out. */
export const TAKE_LOCK_CONDITION = `attribute_not_exists(#lockRunId) OR #lockExpiresAt < :now`;
/** The condition under which a lock may be released: the releasing run holds it. */
export const RELEASE_LOCK_CONDITION = `#lockRunId = :runId`;
/** A result is recorded without the lock only when no newer run's result is there. */
export const LATE_RESULT_CONDITION = `attribute_not_exists(#lastRun) OR #lastRun.#startedAt <= :startedAt`;

export interface DynamoRunsTableOptions {
  /** Current time in milliseconds; tests move it. @default Date.now */
  readonly now?: () => number;
}

export class DynamoRunsTable implements RunsTable, ClusterChangesTable, RunStateTable, PacingLeaseTable {
  private readonly now: () => number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoRunsTableOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async takeLock(ref: ClusterRef, runId: string, ttlSeconds: number): Promise<LockAttempt> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
      throw new RangeError(`lock TTL must be a whole number of seconds ≥ 1, got ${ttlSeconds}`);
    }
    const nowMs = this.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const expiresAt = nowSeconds + ttlSeconds;
    try {
      await this.write(
        ref,
        { set: { ...identity(ref), [A.lockRunId]: runId, [A.lockExpiresAt]: expiresAt } },
        lockFree(nowSeconds),
        new Date(nowMs).toISOString(),
      );
      return { taken: true, runId, expiresAt };
    } catch (error) {
      if (!isConditionFailure(error)) throw wrap(`take the run lock of ${describeRef(ref)}`, error);
    }
    // Lost the race or a run is in progress: say who holds it (one extra read, only on contention).
    const holder = await this.get(ref);
    return {
      taken: false,
      ...(holder?.lockRunId ? { heldBy: holder.lockRunId } : {}),
      ...(holder?.lockExpiresAt !== undefined ? { expiresAt: holder.lockExpiresAt } : {}),
    };
  }

  async releaseLock(result: RunResult): Promise<ReleaseOutcome> {
    const ref = toRef(result);
    // The desired-state record moves in the same write (src/eks/run-state.ts).
    const state = runStateUpdate(result);
    try {
      await this.write(
        ref,
        {
          set: { [A.lastRun]: result, ...state.set },
          remove: [A.lockRunId, A.lockExpiresAt, ...state.remove],
          add: state.add,
        },
        heldBy(result.runId),
      );
      return 'released';
    } catch (error) {
      if (!isConditionFailure(error)) throw wrap(`release the run lock of ${describeRef(ref)}`, error);
    }
    // Not ours any more: keep the result (the run did happen) unless a newer run already reported,
    // and leave the current holder's lock alone.
    try {
      await this.write(
        ref,
        {
          set: { [A.lastRun]: result, ...identity(ref), ...state.set },
          remove: state.remove,
          add: state.add,
        },
        noNewerResult(result.startedAt),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw wrap(`record the run result of ${describeRef(ref)}`, error);
    }
    return 'not-held';
  }

  async recordVerdict(ref: ClusterRef, verdict: ClusterVerdict): Promise<void> {
    const at = this.isoNow();
    try {
      await this.write(
        ref,
        { set: { ...identity(ref), [A.verdict]: verdictRecord(verdict), [A.verdictAt]: at } },
        undefined,
        at,
      );
    } catch (error) {
      throw wrap(`record the verdict of ${describeRef(ref)}`, error);
    }
  }

  async get(ref: ClusterRef): Promise<RunsTableItem | undefined> {
    try {
      const out = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [RUNS_TABLE.partitionKey]: clusterKey(ref.accountId, ref.region, ref.cluster) },
          ConsistentRead: true,
        }),
      );
      return out.Item ? toItem(out.Item) : undefined;
    } catch (error) {
      throw wrap(`read ${describeRef(ref)}`, error);
    }
  }

  /** Every cluster item, following every page of the scan. */
  async list(options: ListOptions = {}): Promise<RunsTableItem[]> {
    const items: RunsTableItem[] = [];
    for (const raw of await this.scanAll(options.consistent === true)) {
      const item = toItem(raw);
      if (item) items.push(item);
    }
    return items;
  }

  async recordAccount(outcome: AccountOutcome): Promise<void> {
    try {
      await this.writeItem(accountKey(outcome.accountId), {
        set: {
          [A.accountId]: outcome.accountId,
          [A.discovery]: JSON.parse(JSON.stringify(outcome)) as Record<string, unknown>,
        },
      });
    } catch (error) {
      throw wrap(`record the discovery of account ${outcome.accountId}`, error);
    }
  }

  async listAccounts(): Promise<AccountOutcome[]> {
    const out: AccountOutcome[] = [];
    for (const raw of await this.scanAll()) {
      const d = raw[A.discovery];
      if (
        typeof raw[RUNS_TABLE.partitionKey] === 'string' &&
        String(raw[RUNS_TABLE.partitionKey]).startsWith('account#') &&
        typeof d === 'object' &&
        d !== null
      ) {
        out.push(d as AccountOutcome);
      }
    }
    return out.sort((a, b) => a.accountId.localeCompare(b.accountId));
  }

  async readClusterChanges(ref: ClusterRef): Promise<ClusterChanges | undefined> {
    return (await this.get(ref))?.clusterChanges;
  }

  async recordClusterChanges(ref: ClusterRef, changes: ClusterChanges): Promise<'recorded' | 'lock-lost'> {
    return this.whileLocked(ref, changes.runId, 'record what the run changes on', {
      set: { [A.clusterChanges]: JSON.parse(JSON.stringify(changes)) as Record<string, unknown> },
    }).then((held) => (held ? 'recorded' : 'lock-lost'));
  }

  async clearClusterChanges(ref: ClusterRef, runId: string): Promise<'cleared' | 'lock-lost'> {
    return this.whileLocked(ref, runId, 'clear the recorded changes of', { remove: [A.clusterChanges] }).then(
      (held) => (held ? 'cleared' : 'lock-lost'),
    );
  }

  async releaseRepairLock(result: RunResult): Promise<ReleaseOutcome> {
    const held = await this.whileLocked(toRef(result), result.runId, 'release the run lock of', {
      set: { [A.lastRepair]: result },
      remove: [A.lockRunId, A.lockExpiresAt],
    });
    return held ? 'released' : 'not-held';
  }

  async recordJudgement(
    ref: ClusterRef,
    verdict: ClusterVerdict,
    decision: Omit<DecisionRecord, 'at'> | undefined,
    options: { readonly resetRepairStreak?: boolean } = {},
  ): Promise<void> {
    const at = this.isoNow();
    try {
      await this.write(
        ref,
        {
          set: {
            ...identity(ref),
            [A.verdict]: verdictRecord(verdict),
            [A.verdictAt]: at,
            ...(decision ? { [A.decision]: { code: decision.code, reason: decision.reason, at } } : {}),
            ...(options.resetRepairStreak === true ? { [A.repairStreak]: 0 } : {}),
          },
          remove: decision ? [] : [A.decision],
        },
        undefined,
        at,
      );
    } catch (error) {
      throw wrap(`record the verdict and decision of ${describeRef(ref)}`, error);
    }
  }

  async recordRunTrigger(ref: ClusterRef, trigger: RunTrigger): Promise<'recorded' | 'lock-lost'> {
    const held = await this.whileLocked(
      ref,
      trigger.runId,
      `record why run ${trigger.runId} was started on`,
      {
        set: { [A.lastTrigger]: { runId: trigger.runId, reason: trigger.reason, at: trigger.at } },
        ...(trigger.reason === 'repair' ? { add: { [A.repairStreak]: 1 } } : {}),
      },
    );
    return held ? 'recorded' : 'lock-lost';
  }

  async requestFollowUp(ref: ClusterRef, reason: string): Promise<void> {
    const at = this.isoNow();
    try {
      await this.write(ref, { set: { [A.followUp]: { reason, at }, ...identity(ref) } }, undefined, at);
    } catch (error) {
      throw wrap(`record a follow-up run for ${describeRef(ref)}`, error);
    }
  }

  async abandonLock(ref: ClusterRef, runId: string): Promise<boolean> {
    return this.whileLocked(ref, runId, 'free the run lock of', { remove: [A.lockRunId, A.lockExpiresAt] });
  }

  async recordFalconInstalled(ref: ClusterRef, runId: string): Promise<void> {
    const at = this.isoNow();
    try {
      await this.write(
        ref,
        {
          set: { ...identity(ref), [A.falconInstalledAt]: at, [A.falconInstalledBy]: runId },
          remove: [A.falconRemovedAt],
        },
        undefined,
        at,
      );
    } catch (error) {
      throw wrap(`record that run ${runId} installs Falcon on ${describeRef(ref)}`, error);
    }
  }

  async recordFalconRemoved(ref: ClusterRef, runId: string): Promise<void> {
    const at = this.isoNow();
    try {
      await this.write(ref, { set: { [A.falconRemovedAt]: at } }, undefined, at);
    } catch (error) {
      throw wrap(`record that run ${runId} removed Falcon from ${describeRef(ref)}`, error);
    }
  }

  async markDestroying(mark: DestroyingMark): Promise<void> {
    try {
      await this.writeItem(DEPLOYMENT_KEY, { set: { [A.destroying]: { since: mark.since, by: mark.by } } });
    } catch (error) {
      throw wrap('mark the deployment as being destroyed', error);
    }
  }

  async clearDestroying(): Promise<void> {
    try {
      await this.writeItem(DEPLOYMENT_KEY, { remove: [A.destroying] });
    } catch (error) {
      throw wrap('lift the mark that the deployment is being destroyed', error);
    }
  }

  async takePacingLease(holder: string, ttlSeconds: number): Promise<boolean> {
    const nowSeconds = Math.floor(this.now() / 1000);
    try {
      await this.writeItem(
        PACING_KEY,
        { set: { [A.lockRunId]: holder, [A.lockExpiresAt]: nowSeconds + ttlSeconds } },
        lockFree(nowSeconds),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw wrap('take the pacing lease', error);
    }
  }

  async releasePacingLease(holder: string): Promise<void> {
    try {
      await this.writeItem(PACING_KEY, { remove: [A.lockRunId, A.lockExpiresAt] }, heldBy(holder));
    } catch (error) {
      if (!isConditionFailure(error)) throw wrap('release the pacing lease', error);
    }
  }

  async destroying(): Promise<DestroyingMark | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      item = (
        await this.doc.send(
          new GetCommand({
            TableName: this.tableName,
            Key: { [RUNS_TABLE.partitionKey]: DEPLOYMENT_KEY },
            ConsistentRead: true,
          }),
        )
      ).Item;
    } catch (error) {
      throw wrap('read whether the deployment is being destroyed', error);
    }
    const mark = item?.[A.destroying] as Record<string, unknown> | undefined;
    if (typeof mark !== 'object' || mark === null) return undefined;
    return { since: str(mark.since) ?? '', by: str(mark.by) ?? '' };
  }

  /**
   * One update of a cluster item, made only while `runId` holds its lock (RELEASE_LOCK_CONDITION);
   * false when it does not.
   */
  private async whileLocked(
    ref: ClusterRef,
    runId: string,
    what: string,
    update: ItemUpdate,
  ): Promise<boolean> {
    try {
      await this.write(ref, update, heldBy(runId));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw wrap(`${what} ${describeRef(ref)}`, error);
    }
  }

  /** One UpdateItem on a cluster's item (the one place the table is written: writeItem). */
  private async write(
    ref: ClusterRef,
    update: ItemUpdate,
    condition?: UpdateCondition,
    at?: string,
  ): Promise<void> {
    await this.writeItem(clusterKey(ref.accountId, ref.region, ref.cluster), update, condition, at);
  }

  /** One UpdateItem on the item `key`; `updatedAt` is always set, to `at` (default now). */
  private async writeItem(
    key: string,
    update: ItemUpdate,
    condition?: UpdateCondition,
    at?: string,
  ): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [RUNS_TABLE.partitionKey]: key },
        ...buildUpdate({ ...update, set: { ...update.set, [A.updatedAt]: at ?? this.isoNow() } }, condition),
      }),
    );
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  private async scanAll(consistent = false): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.doc.send(
          new ScanCommand({
            TableName: this.tableName,
            ExclusiveStartKey: startKey,
            ...(consistent ? { ConsistentRead: true } : {}),
          }),
        );
        items.push(...(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } catch (error) {
      throw wrap('list the runs table', error);
    }
    return items;
  }
}

/** The cluster's identity attributes, written with every update that may create its item. */
function identity(ref: ClusterRef): Record<string, string> {
  return { [A.accountId]: ref.accountId, [A.region]: ref.region, [A.cluster]: ref.cluster };
}

function verdictRecord(verdict: ClusterVerdict): Record<string, string> {
  return { kind: verdict.kind, code: verdict.code, reason: verdict.reason };
}

/** TAKE_LOCK_CONDITION with its placeholders. */
function lockFree(nowSeconds: number): UpdateCondition {
  return {
    expression: TAKE_LOCK_CONDITION,
    names: { '#lockRunId': A.lockRunId, '#lockExpiresAt': A.lockExpiresAt },
    values: { ':now': nowSeconds },
  };
}

/** RELEASE_LOCK_CONDITION with its placeholders. */
function heldBy(runId: string): UpdateCondition {
  return {
    expression: RELEASE_LOCK_CONDITION,
    names: { '#lockRunId': A.lockRunId },
    values: { ':runId': runId },
  };
}

/** LATE_RESULT_CONDITION with its placeholders. */
function noNewerResult(startedAt: string): UpdateCondition {
  return {
    expression: LATE_RESULT_CONDITION,
    names: { '#lastRun': A.lastRun, '#startedAt': 'startedAt' },
    values: { ':startedAt': startedAt },
  };
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

function wrap(what: string, error: unknown): RunsTableError {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new RunsTableError(`could not ${what} in the runs table: ${detail}`, { cause: error });
}

function toRef(result: RunResult): ClusterRef {
  return { accountId: result.accountId, region: result.region, cluster: result.cluster };
}

function describeRef(ref: ClusterRef): string {
  return `cluster ${ref.cluster} (account ${ref.accountId}, ${ref.region})`;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Reads one raw item; items without the cluster attributes (not written by us) are skipped. */
function toItem(raw: Record<string, unknown>): RunsTableItem | undefined {
  const accountId = str(raw[A.accountId]);
  const region = str(raw[A.region]);
  const cluster = str(raw[A.cluster]);
  if (!accountId || !region || !cluster) return undefined;
  const expires = raw[A.lockExpiresAt];
  const lockRunId = str(raw[A.lockRunId]);
  const verdictAt = str(raw[A.verdictAt]);
  const updatedAt = str(raw[A.updatedAt]);
  const falconInstalledAt = str(raw[A.falconInstalledAt]);
  const falconRemovedAt = str(raw[A.falconRemovedAt]);
  return {
    accountId,
    region,
    cluster,
    ...(lockRunId ? { lockRunId } : {}),
    ...(typeof expires === 'number' ? { lockExpiresAt: expires } : {}),
    ...(isVerdict(raw[A.verdict]) ? { verdict: raw[A.verdict] as ClusterVerdict } : {}),
    ...(verdictAt ? { verdictAt } : {}),
    ...(typeof raw[A.lastRun] === 'object' && raw[A.lastRun] !== null
      ? { lastRun: raw[A.lastRun] as RunResult }
      : {}),
    ...(typeof raw[A.lastRepair] === 'object' && raw[A.lastRepair] !== null
      ? { lastRepair: raw[A.lastRepair] as RunResult }
      : {}),
    ...(typeof raw[A.clusterChanges] === 'object' && raw[A.clusterChanges] !== null
      ? { clusterChanges: raw[A.clusterChanges] as ClusterChanges }
      : {}),
    ...(updatedAt ? { updatedAt } : {}),
    ...(falconInstalledAt ? { falconInstalledAt } : {}),
    ...(falconRemovedAt ? { falconRemovedAt } : {}),
    ...runStateOf(raw),
  };
}

/** The desired-state attributes of a raw item (RunStateTable), those that are well-formed. */
function runStateOf(
  raw: Record<string, unknown>,
): Pick<
  RunsTableItem,
  'protectedState' | 'failureStreak' | 'repairStreak' | 'lastTrigger' | 'decision' | 'followUp'
> {
  const record = (value: unknown): Record<string, unknown> | undefined =>
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  const count = (value: unknown): number | undefined =>
    typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
  const state = record(raw[A.protectedState]);
  const trigger = record(raw[A.lastTrigger]);
  const decision = record(raw[A.decision]);
  const followUp = record(raw[A.followUp]);
  const failures = count(raw[A.failureStreak]);
  const repairs = count(raw[A.repairStreak]);
  return {
    ...(state && typeof state.fingerprint === 'string'
      ? { protectedState: state as unknown as ProtectedState }
      : {}),
    ...(failures !== undefined ? { failureStreak: failures } : {}),
    ...(repairs !== undefined ? { repairStreak: repairs } : {}),
    ...(trigger && typeof trigger.reason === 'string'
      ? { lastTrigger: trigger as unknown as RunTrigger }
      : {}),
    ...(decision && typeof decision.code === 'string'
      ? { decision: decision as unknown as DecisionRecord }
      : {}),
    ...(followUp && typeof followUp.at === 'string' && typeof followUp.reason === 'string'
      ? { followUp: { reason: followUp.reason, at: followUp.at } }
      : {}),
  };
}

function isVerdict(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (v.kind === 'eligible' || v.kind === 'ineligible') && typeof v.code === 'string';
}

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
import { RunsTableError } from './errors.js';
import {
  accountKey,
  clusterKey,
  DEPLOYMENT_KEY,
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

export class DynamoRunsTable implements RunsTable, ClusterChangesTable, RunStateTable {
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
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [RUNS_TABLE.partitionKey]: clusterKey(ref.accountId, ref.region, ref.cluster) },
          UpdateExpression:
            'SET #accountId = :accountId, #region = :region, #cluster = :cluster, ' +
            '#lockRunId = :runId, #lockExpiresAt = :expiresAt, #updatedAt = :updatedAt',
          ConditionExpression: TAKE_LOCK_CONDITION,
          ExpressionAttributeNames: {
            '#accountId': A.accountId,
            '#region': A.region,
            '#cluster': A.cluster,
            '#lockRunId': A.lockRunId,
            '#lockExpiresAt': A.lockExpiresAt,
            '#updatedAt': A.updatedAt,
          },
          ExpressionAttributeValues: {
            ':accountId': ref.accountId,
            ':region': ref.region,
            ':cluster': ref.cluster,
            ':runId': runId,
            ':expiresAt': expiresAt,
            ':now': nowSeconds,
            ':updatedAt': new Date(nowMs).toISOString(),
          },
        }),
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
    const key = { [RUNS_TABLE.partitionKey]: clusterKey(result.accountId, result.region, result.cluster) };
    const updatedAt = new Date(this.now()).toISOString();
    // The desired-state record moves in the same write (src/eks/run-state.ts).
    const state = stateClauses(result);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: joinClauses(
            ['#lastRun = :result', '#updatedAt = :updatedAt', ...state.set],
            ['#lockRunId', '#lockExpiresAt', ...state.remove],
            state.add,
          ),
          ConditionExpression: RELEASE_LOCK_CONDITION,
          ExpressionAttributeNames: {
            '#lastRun': A.lastRun,
            '#updatedAt': A.updatedAt,
            '#lockRunId': A.lockRunId,
            '#lockExpiresAt': A.lockExpiresAt,
            ...state.names,
          },
          ExpressionAttributeValues: {
            ':result': result,
            ':updatedAt': updatedAt,
            ':runId': result.runId,
            ...state.values,
          },
        }),
      );
      return 'released';
    } catch (error) {
      if (!isConditionFailure(error))
        throw wrap(`release the run lock of ${describeRef(toRef(result))}`, error);
    }
    // Not ours any more: keep the result (the run did happen) unless a newer run already reported,
    // and leave the current holder's lock alone.
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: joinClauses(
            [
              '#lastRun = :result',
              '#updatedAt = :updatedAt',
              '#accountId = :accountId',
              '#region = :region',
              '#cluster = :cluster',
              ...state.set,
            ],
            state.remove,
            state.add,
          ),
          ConditionExpression: LATE_RESULT_CONDITION,
          ExpressionAttributeNames: {
            '#lastRun': A.lastRun,
            '#startedAt': 'startedAt',
            '#updatedAt': A.updatedAt,
            '#accountId': A.accountId,
            '#region': A.region,
            '#cluster': A.cluster,
            ...state.names,
          },
          ExpressionAttributeValues: {
            ':result': result,
            ':updatedAt': updatedAt,
            ':startedAt': result.startedAt,
            ':accountId': result.accountId,
            ':region': result.region,
            ':cluster': result.cluster,
            ...state.values,
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error))
        throw wrap(`record the run result of ${describeRef(toRef(result))}`, error);
    }
    return 'not-held';
  }

  async recordVerdict(ref: ClusterRef, verdict: ClusterVerdict): Promise<void> {
    const at = new Date(this.now()).toISOString();
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [RUNS_TABLE.partitionKey]: clusterKey(ref.accountId, ref.region, ref.cluster) },
          UpdateExpression:
            'SET #accountId = :accountId, #region = :region, #cluster = :cluster, ' +
            '#verdict = :verdict, #verdictAt = :at, #updatedAt = :at',
          ExpressionAttributeNames: {
            '#accountId': A.accountId,
            '#region': A.region,
            '#cluster': A.cluster,
            '#verdict': A.verdict,
            '#verdictAt': A.verdictAt,
            '#updatedAt': A.updatedAt,
          },
          ExpressionAttributeValues: {
            ':accountId': ref.accountId,
            ':region': ref.region,
            ':cluster': ref.cluster,
            ':verdict': { kind: verdict.kind, code: verdict.code, reason: verdict.reason },
            ':at': at,
          },
        }),
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
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [RUNS_TABLE.partitionKey]: accountKey(outcome.accountId) },
          UpdateExpression: 'SET #accountId = :accountId, #discovery = :discovery, #updatedAt = :at',
          ExpressionAttributeNames: {
            '#accountId': A.accountId,
            '#discovery': 'discovery',
            '#updatedAt': A.updatedAt,
          },
          ExpressionAttributeValues: {
            ':accountId': outcome.accountId,
            ':discovery': JSON.parse(JSON.stringify(outcome)) as Record<string, unknown>,
            ':at': new Date(this.now()).toISOString(),
          },
        }),
      );
    } catch (error) {
      throw wrap(`record the discovery of account ${outcome.accountId}`, error);
    }
  }

  async listAccounts(): Promise<AccountOutcome[]> {
    const out: AccountOutcome[] = [];
    for (const raw of await this.scanAll()) {
      const d = raw.discovery;
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

  /**
   * One update of a cluster item, made only while `runId` holds its lock (RELEASE_LOCK_CONDITION);
   * false when it does not. `updatedAt` is always set.
   */
  private async whileLocked(
    ref: ClusterRef,
    runId: string,
    what: string,
    update: { readonly set?: Readonly<Record<string, unknown>>; readonly remove?: readonly string[] },
  ): Promise<boolean> {
    const names: Record<string, string> = { '#lockRunId': A.lockRunId, '#updatedAt': A.updatedAt };
    const values: Record<string, unknown> = {
      ':runId': runId,
      ':updatedAt': new Date(this.now()).toISOString(),
    };
    const sets = ['#updatedAt = :updatedAt'];
    Object.entries(update.set ?? {}).forEach(([attribute, value], i) => {
      names[`#s${i}`] = attribute;
      values[`:s${i}`] = value;
      sets.push(`#s${i} = :s${i}`);
    });
    const removes = (update.remove ?? []).map((attribute, i) => {
      names[`#r${i}`] = attribute;
      return `#r${i}`;
    });
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [RUNS_TABLE.partitionKey]: clusterKey(ref.accountId, ref.region, ref.cluster) },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: RELEASE_LOCK_CONDITION,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw wrap(`${what} ${describeRef(ref)}`, error);
    }
  }

  async recordJudgement(
    ref: ClusterRef,
    verdict: ClusterVerdict,
    decision: Omit<DecisionRecord, 'at'> | undefined,
    options: { readonly resetRepairStreak?: boolean } = {},
  ): Promise<void> {
    const sets = [
      '#accountId = :accountId',
      '#region = :region',
      '#cluster = :cluster',
      '#verdict = :verdict',
      '#verdictAt = :at',
      '#updatedAt = :at',
      ...(decision ? ['#decision = :decision'] : []),
      ...(options.resetRepairStreak === true ? ['#repairStreak = :zero'] : []),
    ];
    try {
      await this.update(ref, `SET ${sets.join(', ')}${decision ? '' : ' REMOVE #decision'}`, {
        names: {
          '#accountId': A.accountId,
          '#region': A.region,
          '#cluster': A.cluster,
          '#verdict': A.verdict,
          '#verdictAt': A.verdictAt,
          '#decision': A.decision,
          ...(options.resetRepairStreak === true ? { '#repairStreak': A.repairStreak } : {}),
        },
        values: {
          ':accountId': ref.accountId,
          ':region': ref.region,
          ':cluster': ref.cluster,
          ':verdict': { kind: verdict.kind, code: verdict.code, reason: verdict.reason },
          ...(decision
            ? {
                ':decision': {
                  code: decision.code,
                  reason: decision.reason,
                  at: new Date(this.now()).toISOString(),
                },
              }
            : {}),
          ...(options.resetRepairStreak === true ? { ':zero': 0 } : {}),
        },
      });
    } catch (error) {
      throw wrap(`record the verdict and decision of ${describeRef(ref)}`, error);
    }
  }

  async recordRunTrigger(ref: ClusterRef, trigger: RunTrigger): Promise<'recorded' | 'lock-lost'> {
    const repair = trigger.reason === 'repair';
    try {
      await this.update(
        ref,
        `SET #lastTrigger = :trigger, #updatedAt = :at${repair ? ' ADD #repairStreak :one' : ''}`,
        {
          condition: RELEASE_LOCK_CONDITION,
          names: {
            '#lastTrigger': A.lastTrigger,
            '#lockRunId': A.lockRunId,
            ...(repair ? { '#repairStreak': A.repairStreak } : {}),
          },
          values: {
            ':trigger': { runId: trigger.runId, reason: trigger.reason, at: trigger.at },
            ':runId': trigger.runId,
            ...(repair ? { ':one': 1 } : {}),
          },
        },
      );
      return 'recorded';
    } catch (error) {
      if (isConditionFailure(error)) return 'lock-lost';
      throw wrap(`record why run ${trigger.runId} was started on ${describeRef(ref)}`, error);
    }
  }

  async requestFollowUp(ref: ClusterRef, reason: string): Promise<void> {
    try {
      await this.update(
        ref,
        'SET #followUp = :followUp, #accountId = :accountId, #region = :region, #cluster = :cluster, #updatedAt = :at',
        {
          names: {
            '#followUp': A.followUp,
            '#accountId': A.accountId,
            '#region': A.region,
            '#cluster': A.cluster,
          },
          values: {
            ':followUp': { reason, at: new Date(this.now()).toISOString() },
            ':accountId': ref.accountId,
            ':region': ref.region,
            ':cluster': ref.cluster,
          },
        },
      );
    } catch (error) {
      throw wrap(`record a follow-up run for ${describeRef(ref)}`, error);
    }
  }

  async abandonLock(ref: ClusterRef, runId: string): Promise<boolean> {
    try {
      await this.update(ref, 'SET #updatedAt = :at REMOVE #lockRunId, #lockExpiresAt', {
        condition: RELEASE_LOCK_CONDITION,
        names: { '#lockRunId': A.lockRunId, '#lockExpiresAt': A.lockExpiresAt },
        values: { ':runId': runId },
      });
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw wrap(`free the run lock of ${describeRef(ref)}`, error);
    }
  }

  async recordFalconInstalled(ref: ClusterRef, runId: string): Promise<void> {
    try {
      await this.update(
        ref,
        'SET #accountId = :accountId, #region = :region, #cluster = :cluster, ' +
          '#installedAt = :at, #installedBy = :runId, #updatedAt = :at REMOVE #removedAt',
        {
          names: {
            '#accountId': A.accountId,
            '#region': A.region,
            '#cluster': A.cluster,
            '#installedAt': A.falconInstalledAt,
            '#installedBy': A.falconInstalledBy,
            '#removedAt': A.falconRemovedAt,
          },
          values: {
            ':accountId': ref.accountId,
            ':region': ref.region,
            ':cluster': ref.cluster,
            ':runId': runId,
          },
        },
      );
    } catch (error) {
      throw wrap(`record that run ${runId} installs Falcon on ${describeRef(ref)}`, error);
    }
  }

  async recordFalconRemoved(ref: ClusterRef, runId: string): Promise<void> {
    try {
      await this.update(ref, 'SET #removedAt = :at, #updatedAt = :at', {
        names: { '#removedAt': A.falconRemovedAt },
        values: {},
      });
    } catch (error) {
      throw wrap(`record that run ${runId} removed Falcon from ${describeRef(ref)}`, error);
    }
  }

  async markDestroying(mark: DestroyingMark): Promise<void> {
    await this.updateDeployment('SET #destroying = :mark, #updatedAt = :at', {
      ':mark': { since: mark.since, by: mark.by },
    }).catch((error: unknown) => {
      throw wrap('mark the deployment as being destroyed', error);
    });
  }

  async clearDestroying(): Promise<void> {
    await this.updateDeployment('SET #updatedAt = :at REMOVE #destroying', {}).catch((error: unknown) => {
      throw wrap('lift the mark that the deployment is being destroyed', error);
    });
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

  /** One UpdateItem on the deployment's item (`#destroying`, `#updatedAt`; `:at` is now). */
  private async updateDeployment(expression: string, values: Record<string, unknown>): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [RUNS_TABLE.partitionKey]: DEPLOYMENT_KEY },
        UpdateExpression: expression,
        ExpressionAttributeNames: { '#destroying': A.destroying, '#updatedAt': A.updatedAt },
        ExpressionAttributeValues: { ':at': new Date(this.now()).toISOString(), ...values },
      }),
    );
  }

  /** One UpdateItem on a cluster's item; `:at` is always the current time. */
  private async update(
    ref: ClusterRef,
    expression: string,
    options: {
      condition?: string;
      names: Record<string, string>;
      values: Record<string, unknown>;
    },
  ): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [RUNS_TABLE.partitionKey]: clusterKey(ref.accountId, ref.region, ref.cluster) },
        UpdateExpression: expression,
        ...(options.condition ? { ConditionExpression: options.condition } : {}),
        ExpressionAttributeNames: { '#updatedAt': A.updatedAt, ...options.names },
        ExpressionAttributeValues: { ':at': new Date(this.now()).toISOString(), ...options.values },
      }),
    );
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

/** `SET a, b REMOVE c, d ADD e :x` from its parts (empty clauses left out). */
function joinClauses(
  set: readonly string[],
  remove: readonly string[],
  add: Readonly<Record<string, string>>,
): string {
  const adds = Object.entries(add).map(([name, value]) => `${name} ${value}`);
  return [
    set.length > 0 ? `SET ${set.join(', ')}` : '',
    remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '',
    adds.length > 0 ? `ADD ${adds.join(', ')}` : '',
  ]
    .filter((c) => c !== '')
    .join(' ');
}

/** The desired-state part of a release (runStateUpdate) as expression clauses, names and values. */
function stateClauses(result: RunResult): {
  set: string[];
  remove: string[];
  add: Record<string, string>;
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  const update = runStateUpdate(result);
  const out = {
    set: [] as string[],
    remove: [] as string[],
    add: {} as Record<string, string>,
    names: {} as Record<string, string>,
    values: {} as Record<string, unknown>,
  };
  Object.entries(update.set).forEach(([attribute, value], i) => {
    out.names[`#st${i}`] = attribute;
    out.values[`:st${i}`] = value;
    out.set.push(`#st${i} = :st${i}`);
  });
  update.remove.forEach((attribute, i) => {
    out.names[`#sr${i}`] = attribute;
    out.remove.push(`#sr${i}`);
  });
  Object.entries(update.add).forEach(([attribute, value], i) => {
    out.names[`#sa${i}`] = attribute;
    out.values[`:sa${i}`] = value;
    out.add[`#sa${i}`] = `:sa${i}`;
  });
  return out;
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

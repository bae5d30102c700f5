/**
 * The runs table (DynamoDB, home account): one item per cluster holding the run lock, the last
 * verdict and the last run result. Layout: `RUNS_TABLE` in ./run-contract.ts.
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
  RUNS_TABLE,
  type AccountOutcome,
  type ClusterChanges,
  type ClusterVerdict,
  type RunResult,
} from './run-contract.js';

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
  list(): Promise<RunsTableItem[]>;
  /** Records how an account's discovery ended (one item per account, replaced each time). */
  recordAccount(outcome: AccountOutcome): Promise<void>;
  listAccounts(): Promise<AccountOutcome[]>;
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

export class DynamoRunsTable implements RunsTable, ClusterChangesTable {
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
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression:
            'SET #lastRun = :result, #updatedAt = :updatedAt REMOVE #lockRunId, #lockExpiresAt',
          ConditionExpression: RELEASE_LOCK_CONDITION,
          ExpressionAttributeNames: {
            '#lastRun': A.lastRun,
            '#updatedAt': A.updatedAt,
            '#lockRunId': A.lockRunId,
            '#lockExpiresAt': A.lockExpiresAt,
          },
          ExpressionAttributeValues: { ':result': result, ':updatedAt': updatedAt, ':runId': result.runId },
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
          UpdateExpression:
            'SET #lastRun = :result, #updatedAt = :updatedAt, #accountId = :accountId, #region = :region, #cluster = :cluster',
          ConditionExpression: LATE_RESULT_CONDITION,
          ExpressionAttributeNames: {
            '#lastRun': A.lastRun,
            '#startedAt': 'startedAt',
            '#updatedAt': A.updatedAt,
            '#accountId': A.accountId,
            '#region': A.region,
            '#cluster': A.cluster,
          },
          ExpressionAttributeValues: {
            ':result': result,
            ':updatedAt': updatedAt,
            ':startedAt': result.startedAt,
            ':accountId': result.accountId,
            ':region': result.region,
            ':cluster': result.cluster,
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
  async list(): Promise<RunsTableItem[]> {
    const items: RunsTableItem[] = [];
    for (const raw of await this.scanAll()) {
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

  private async scanAll(): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.doc.send(
          new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey }),
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
  };
}

function isVerdict(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (v.kind === 'eligible' || v.kind === 'ineligible') && typeof v.code === 'string';
}

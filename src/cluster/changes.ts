/**
 * What a run changes on a cluster outside Kubernetes — the public endpoint allow-list and its
 * access entry — is recorded in the runs table BEFORE the change and undone from that record: by
 * the run's own clean-up, or, when the run was killed before its clean-up (a stopped or timed-out
 * build, a lost container: no code of the run is left to clean up), by the next run on the cluster,
 * first thing. Memory alone is not enough: a killed build takes it along.
 */
import type { EKSClient } from '@aws-sdk/client-eks';
import type { ClusterChanges } from '../eks/run-contract.js';
import type { ClusterChangesTable, ClusterRef } from '../eks/runs-table.js';
import { describeError } from '../shared/describe-error.js';
import type { LineLogger } from '../shared/log-line.js';
import { setPublicAccessCidrs, undoAccessEntry, waitClusterActive } from './aws-cluster.js';
import { ClusterError } from './errors.js';
import type { DeployerClock } from './wait.js';

/** The record of one cluster, as one run sees it. */
export interface ChangeLedger {
  /** What a run recorded and has not undone yet (an earlier, killed run's, at the start of a run). */
  read(): Promise<ClusterChanges | undefined>;
  /** Records (replaces) what the run is about to change; throws LockLostError when it no longer holds the cluster. */
  record(changes: ClusterChanges): Promise<void>;
  /** Forgets the record once undone. */
  clear(runId: string): Promise<void>;
}

/** The run no longer holds its cluster's lock (it expired and another run may have taken it). */
export class LockLostError extends ClusterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LockLostError';
  }
}

/** The record in the runs table, written only while the run holds the cluster's lock. */
export function tableLedger(table: ClusterChangesTable, ref: ClusterRef): ChangeLedger {
  const lost = (runId: string, what: string) =>
    new LockLostError(
      `run ${runId} no longer holds the lock of cluster ${ref.cluster} (it expired; another run may own the cluster), so it could not ${what}; stopping`,
    );
  return {
    read: () => table.readClusterChanges(ref),
    record: async (changes) => {
      if ((await table.recordClusterChanges(ref, changes)) === 'lock-lost') {
        throw lost(changes.runId, 'record what it is about to change');
      }
    },
    clear: async (runId) => {
      if ((await table.clearClusterChanges(ref, runId)) === 'lock-lost') {
        throw lost(runId, 'clear its record of changes');
      }
    },
  };
}

/** Without a runs table (a CLI run): the record lives as long as the process. */
export function memoryLedger(): ChangeLedger {
  let current: ClusterChanges | undefined;
  return {
    read: () => Promise.resolve(current),
    record: (changes) => {
      current = changes;
      return Promise.resolve();
    },
    clear: () => {
      current = undefined;
      return Promise.resolve();
    },
  };
}

export interface UndoOutcome {
  /** What was put back, for logs and reasons ("allow-list restored to 198.51.100.0/24"). */
  readonly undone: readonly string[];
  /** What could not be put back, each naming what it should be. */
  readonly problems: readonly string[];
}

/** The allow-list as EKS reports it: an empty list means open to all. */
export function effectiveAllowList(cidrs: readonly string[]): string[] {
  return cidrs.length === 0 ? ['0.0.0.0/0'] : [...cidrs];
}

function sameCidrs(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((c, i) => c === y[i]);
}

/**
 * Undoes a record: the allow-list is put back only while it is still what the run widened it to
 * (someone who changed it since has the last word), then the access entry or association. Safe to
 * repeat. Each step that fails is named in `problems`; the others still run.
 */
export async function undoClusterChanges(
  eks: EKSClient,
  cluster: string,
  changes: ClusterChanges,
  clock: DeployerClock,
  deadlineSeconds: number,
  log: Pick<LineLogger, 'info' | 'warn'>,
): Promise<UndoOutcome> {
  const undone: string[] = [];
  const problems: string[] = [];
  const allowList = changes.allowList;
  if (allowList !== undefined) {
    try {
      const current = effectiveAllowList(
        (await waitClusterActive(eks, cluster, clock, deadlineSeconds)).publicAccessCidrs,
      );
      if (sameCidrs(current, allowList.widened) && !sameCidrs(current, allowList.original)) {
        await setPublicAccessCidrs(eks, cluster, allowList.original, clock, deadlineSeconds);
        log.info('allow-list-restored', { cidrs: allowList.original });
        undone.push(`allow-list restored to ${allowList.original.join(', ')}`);
      } else if (!sameCidrs(current, allowList.original)) {
        log.warn('allow-list-changed-since', { cidrs: current, original: allowList.original });
        undone.push(`allow-list left as changed since (${current.join(', ')})`);
      }
    } catch (error) {
      problems.push(
        `restoring the endpoint allow-list to ${allowList.original.join(', ')} failed: ${describeError(error)}`,
      );
    }
  }
  const entry = changes.accessEntry;
  if (entry !== undefined) {
    try {
      await undoAccessEntry(eks, cluster, entry);
      if (entry.action === 'remove-entry') {
        log.info('access-entry-removed');
        undone.push(`access entry of ${entry.principalArn} removed`);
      } else {
        log.info('access-policy-restored', { policyArn: entry.policyArn });
        undone.push(
          `association of ${entry.policyArn} with the access entry of ${entry.principalArn} undone`,
        );
      }
    } catch (error) {
      problems.push(
        entry.action === 'remove-entry'
          ? `removing the access entry of ${entry.principalArn} failed: ${describeError(error)}`
          : `undoing the association of ${entry.policyArn} with the access entry of ${entry.principalArn} failed: ${describeError(error)}`,
      );
    }
  }
  return { undone, problems };
}

/**
 * What releasing a run's lock does to the cluster's desired-state record, besides keeping the result
 * (`lastRun`): a good install run records the desired state it left (`protectedState`) and resets the
 * failure streak; a failed or not-reachable install run lengthens the streak (the next sweep backs
 * off longer); an uninstall that removed Falcon forgets the protected state. Pure: the runs table
 * applies it in the same conditional write that releases the lock, so the two never disagree.
 */
import type { ItemUpdate } from '../aws/dynamo-update.js';
import { RUNS_TABLE, type ProtectedState, type RunOutcome, type RunResult } from './run-contract.js';

const A = RUNS_TABLE.attributes;

/** Outcomes after which the cluster holds what the run wanted. */
export const GOOD_INSTALL_OUTCOMES: readonly RunOutcome[] = ['protected', 'already-protected', 'upgraded'];
/** Outcomes that count against the cluster (backoff). */
export const FAILED_OUTCOMES: readonly RunOutcome[] = ['failed', 'not-reachable'];

/** Attribute updates, by attribute name: set to a value, remove, or add a number to. */
export type RunStateUpdate = Required<ItemUpdate>;

/** The update a released result makes (attribute names as in `RUNS_TABLE.attributes`). */
export function runStateUpdate(result: RunResult): RunStateUpdate {
  if (result.mode === 'install' && GOOD_INSTALL_OUTCOMES.includes(result.outcome)) {
    const state: ProtectedState | undefined = result.desiredState
      ? { ...result.desiredState, at: result.finishedAt, runId: result.runId }
      : undefined;
    return {
      set: { [A.failureStreak]: 0, ...(state ? { [A.protectedState]: state } : {}) },
      remove: [],
      add: {},
    };
  }
  if (result.mode === 'install' && FAILED_OUTCOMES.includes(result.outcome)) {
    return { set: {}, remove: [], add: { [A.failureStreak]: 1 } };
  }
  if (result.mode === 'uninstall' && result.outcome === 'uninstalled') {
    return { set: { [A.failureStreak]: 0 }, remove: [A.protectedState], add: {} };
  }
  return { set: {}, remove: [], add: {} };
}

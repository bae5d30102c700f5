import type { EksDeployerConfig } from './eks-deployer-schema.js';

/*
 * How the time of one deployer run is budgeted against its run lock. A run must end before its lock
 * expires, or discovery or an event could start a second run on the same cluster: the CodeBuild
 * build timeout is the lock's lifetime minus the queue time and a margin, and it has to hold the
 * deployer's own waits, one after the other, plus the work between them.
 */

/** How long a run may wait in CodeBuild's queue (counted against the lock). */
export const DEPLOYER_QUEUED_TIMEOUT_MINUTES = 10;
/** Margin between the end of the longest build and the lock's expiry. */
export const LOCK_MARGIN_MINUTES = 5;
/** Time a run spends outside its waits (assume role, apply, report). */
export const DEPLOYER_WORK_MINUTES = 5;

/** CodeBuild build timeout for a lock lifetime. */
export function buildTimeoutMinutes(lockTtlMinutes: number): number {
  return lockTtlMinutes - DEPLOYER_QUEUED_TIMEOUT_MINUTES - LOCK_MARGIN_MINUTES;
}

/** The longest an install run waits, its deadlines one after the other, in whole minutes. */
export function installWaitMinutes(deadlines: EksDeployerConfig['deadlines']): number {
  const seconds =
    deadlines.clusterActiveSeconds +
    deadlines.accessPropagationSeconds +
    deadlines.crdEstablishedSeconds +
    deadlines.operatorAvailableSeconds +
    deadlines.sensorsReadySeconds;
  return Math.ceil(seconds / 60);
}

/** The shortest lock lifetime whose build can hold every wait of an install run. */
export function minimumLockTtlMinutes(deadlines: EksDeployerConfig['deadlines']): number {
  return (
    installWaitMinutes(deadlines) +
    DEPLOYER_WORK_MINUTES +
    DEPLOYER_QUEUED_TIMEOUT_MINUTES +
    LOCK_MARGIN_MINUTES
  );
}

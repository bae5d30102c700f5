import { ClusterError } from './errors.js';

/** A metav1.Condition as the deployer reads it. */
export interface Condition {
  readonly type?: string;
  readonly status?: string;
  readonly observedGeneration?: number;
  readonly reason?: string;
  readonly message?: string;
}

export function conditionsOf(object: unknown): Condition[] {
  const status = (object as { status?: { conditions?: unknown } } | undefined)?.status;
  return Array.isArray(status?.conditions) ? (status.conditions as Condition[]) : [];
}

export function isTrue(object: unknown, type: string): boolean {
  return conditionsOf(object).some((c) => c.type === type && c.status === 'True');
}

/** "Established=False (Installing)" or "no conditions yet". */
export function describeConditions(object: unknown): string {
  const list = conditionsOf(object);
  if (list.length === 0) return 'no conditions yet';
  return list
    .map(
      (c) =>
        `${c.type ?? '?'}=${c.status ?? '?'}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`,
    )
    .join(', ');
}

interface DeploymentState {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: Condition[];
  };
}

/**
 * A Deployment has rolled out when it is Available and meets what `kubectl rollout status`
 * requires: the controller has observed the current generation, the rollout has not exceeded its
 * progress deadline, every desired replica runs the new revision (`updatedReplicas` =
 * `spec.replicas`), no old replica is left (`status.replicas` = `updatedReplicas`) and every
 * updated replica is available (`availableReplicas` ≥ `updatedReplicas`). Available alone stays
 * True during a rolling update (the old pods serve), so an upgrade whose new pods never start would
 * otherwise pass. A rollout past its progress deadline ends the wait at once.
 */
export function deploymentRolledOut(object: unknown): { done: boolean; seen: string } {
  if (object === undefined) return { done: false, seen: 'not found' };
  const { metadata = {}, spec = {}, status = {} } = object as DeploymentState;
  const conditions = describeConditions(object);
  const progressing = conditionsOf(object).find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    throw new ClusterError(`the rollout exceeded its progress deadline (${conditions})`);
  }
  if (!isTrue(object, 'Available')) return { done: false, seen: conditions };
  const generation = metadata.generation ?? 0;
  if ((status.observedGeneration ?? 0) < generation) {
    return { done: false, seen: `${conditions}; generation ${generation} not observed yet` };
  }
  const desired = spec.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < desired) {
    return { done: false, seen: `${conditions}; ${updated} of ${desired} new replicas updated` };
  }
  if (total > updated) {
    return { done: false, seen: `${conditions}; ${total - updated} old replicas pending termination` };
  }
  if (available < updated) {
    return { done: false, seen: `${conditions}; ${available} of ${updated} updated replicas available` };
  }
  return { done: true, seen: conditions };
}

/**
 * True when `type` is True for the object's current spec: a condition that names the generation it
 * was set for must not be older than the object (after an upgrade or a changed spec, the Success of
 * the previous reconcile would otherwise end the wait before the operator has looked).
 */
export function isTrueForCurrentSpec(object: unknown, type: string): boolean {
  const generation = (object as { metadata?: { generation?: number } } | undefined)?.metadata?.generation;
  return conditionsOf(object).some(
    (c) =>
      c.type === type &&
      c.status === 'True' &&
      (generation === undefined || c.observedGeneration === undefined || c.observedGeneration >= generation),
  );
}

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
  status?: { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number };
}

/**
 * A Deployment has rolled out when it is Available, its controller has observed the current spec
 * and every replica runs it. Available alone stays True during a rolling update (the old pods
 * serve), so an upgrade would be taken as done before the new version runs.
 */
export function deploymentRolledOut(object: unknown): { done: boolean; seen: string } {
  if (object === undefined) return { done: false, seen: 'not found' };
  const { metadata = {}, spec = {}, status = {} } = object as DeploymentState;
  const conditions = describeConditions(object);
  if (!isTrue(object, 'Available')) return { done: false, seen: conditions };
  if (metadata.generation !== undefined && (status.observedGeneration ?? 0) < metadata.generation) {
    return { done: false, seen: `${conditions}; generation ${metadata.generation} not observed yet` };
  }
  const replicas = spec.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  if (updated < replicas) {
    return { done: false, seen: `${conditions}; ${updated} of ${replicas} replicas updated` };
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

/** A metav1.Condition as the deployer reads it. */
export interface Condition {
  readonly type?: string;
  readonly status?: string;
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

import type { StackInstanceSummary, StackSetOperationResultSummary } from '@aws-sdk/client-cloudformation';
import {
  type CloudFormationSender,
  observeStackSetOrReason,
  type ObserveRequest,
  type WaitOptions,
} from '../aws/stackset-results.js';

/** An ECR stack instance whose purge update did not succeed, so its Delete will not purge. */
export interface NotPurged {
  readonly account: string;
  readonly region: string;
  readonly reason: string;
}

/**
 * After the update that sets PurgeOnDelete, reads the ECR StackSet operation's per-account results: with a
 * failure tolerance the update succeeds although some accounts failed, and those instances keep the old
 * template (no purge on delete). Every instance without a SUCCEEDED result in the newest operation that
 * names it is returned with the reason; results that cannot be read make every instance unconfirmed.
 */
export async function purgeUpdateFailures(
  cfn: CloudFormationSender,
  request: ObserveRequest,
  instances: readonly StackInstanceSummary[],
  wait: WaitOptions | undefined,
): Promise<NotPurged[]> {
  const observation = await observeStackSetOrReason(cfn, request, wait);
  const where = (i: StackInstanceSummary) => ({ account: i.Account ?? '?', region: i.Region ?? '?' });
  if (observation.error !== undefined) {
    const reason = `the purge update's per-account results could not be read: ${observation.error}`;
    return instances.map((i) => ({ ...where(i), reason }));
  }
  // Operations come newest first: an account's latest result is the one that counts.
  const latest = new Map<string, StackSetOperationResultSummary>();
  for (const op of observation.operations) {
    for (const r of observation.operationResults) {
      const key = `${r.Account ?? ''} ${r.Region ?? ''}`;
      if (r.OperationId === op.OperationId && !latest.has(key)) latest.set(key, r);
    }
  }
  return instances.flatMap((i) => {
    const result = latest.get(`${i.Account ?? ''} ${i.Region ?? ''}`);
    if (result?.Status === 'SUCCEEDED') return [];
    const reason =
      result === undefined
        ? 'the purge update has no result for this account'
        : `the purge update ${(result.Status ?? 'unknown').toLowerCase()} here` +
          `${result.StatusReason ? `: ${result.StatusReason}` : ''}`;
    return [{ ...where(i), reason }];
  });
}

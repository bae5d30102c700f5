import type { CallAs } from '@aws-sdk/client-cloudformation';
import {
  buildStackSetReport,
  type CloudFormationSender,
  focusOnFailedOperations,
  observeStackSetOrReason,
  type StackSetObservation,
  type StackSetReport,
  type WaitOptions,
} from '../aws/stackset-results.js';
import { listRootStackSets } from './root-stacksets.js';

export interface FailedDeployRequest {
  readonly stackName: string;
  readonly callAs: CallAs;
  readonly since: Date;
}

/**
 * After the root stack failed to deploy: the per-account results of this deploy's StackSet
 * operations, failed ones first-hand. A StackSet the rollback deleted is reported from what the
 * watcher saw during the deploy; one that cannot be read either way says why. Never throws.
 */
export async function stackSetResultsAfterFailure(
  cfn: CloudFormationSender,
  request: FailedDeployRequest,
  watched: ReadonlyMap<string, StackSetObservation>,
  wait: WaitOptions = {},
): Promise<StackSetReport> {
  let names: string[];
  let listing: StackSetObservation | undefined;
  try {
    const sets = (await listRootStackSets(cfn, request.stackName, { includeDeleted: true })) ?? [];
    names = sets.map((s) => s.stackSetName);
  } catch (error) {
    names = [];
    listing = {
      stackSetName: `StackSets of ${request.stackName}`,
      operations: [],
      operationResults: [],
      instances: [],
      timedOut: false,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    };
  }
  for (const name of watched.keys()) if (!names.includes(name)) names.push(name);

  const observations = await Promise.all(
    names.map(async (stackSetName) => {
      const fresh = await observeStackSetOrReason(
        cfn,
        { stackSetName, callAs: request.callAs, since: request.since },
        wait,
      );
      const earlier = watched.get(stackSetName);
      if (fresh.error !== undefined && earlier) {
        return focusOnFailedOperations({
          ...earlier,
          note: 'deleted by the rollback; results as seen during the deploy',
        });
      }
      if (fresh.error !== undefined && /StackSetNotFound/.test(fresh.error)) {
        return {
          ...fresh,
          error: `deleted by the rollback before its per-account results could be read; the events of stack ${request.stackName} name the failure`,
        };
      }
      return focusOnFailedOperations(fresh);
    }),
  );
  return buildStackSetReport(listing ? [...observations, listing] : observations);
}

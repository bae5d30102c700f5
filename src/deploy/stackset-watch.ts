import type { CallAs } from '@aws-sdk/client-cloudformation';
import {
  type CloudFormationSender,
  observeStackSet,
  relevantOperations,
  type StackSetObservation,
} from '../aws/stackset-results.js';
import { listRootStackSets } from './root-stacksets.js';

export interface WatchRequest {
  readonly stackName: string;
  readonly callAs: CallAs;
  /** Operations created since then belong to this deploy. */
  readonly since: Date;
}

export interface WatchOptions {
  /** Pause between looks. @default 20 s */
  readonly intervalMs?: number;
}

export interface StackSetWatch {
  /** Stops watching; resolves with the last results seen per StackSet (only failed operations). */
  stop(): Promise<ReadonlyMap<string, StackSetObservation>>;
}

const FAILED = new Set(['FAILED', 'STOPPED']);

/**
 * Looks at the root stack's StackSets while the toolkit deploys, and keeps the per-account results
 * of every operation that failed. When a failure rolls a first deploy back, CloudFormation deletes
 * the StackSets and their operation history with them; these copies are then the only record of
 * which accounts failed and why. Each look is cheap (the stack's resources and each StackSet's
 * recent operations); per-account results are read only once an operation has failed. Never
 * throws: what cannot be read now is tried again at the next look.
 */
export function watchStackSets(
  cfn: CloudFormationSender,
  request: WatchRequest,
  options: WatchOptions = {},
): StackSetWatch {
  const intervalMs = options.intervalMs ?? 20_000;
  const seen = new Map<string, StackSetObservation>();
  const captured = new Set<string>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;

  const look = async (): Promise<void> => {
    const sets = (await listRootStackSets(cfn, request.stackName)) ?? [];
    for (const set of sets) {
      const ask = { stackSetName: set.stackSetName, callAs: request.callAs, since: request.since };
      const operations = await relevantOperations(cfn, ask);
      const failed = operations.filter(
        (op) => FAILED.has(op.Status ?? '') && !captured.has(`${set.stackSetName}/${op.OperationId ?? ''}`),
      );
      if (failed.length === 0) continue;
      seen.set(set.stackSetName, await observeStackSet(cfn, ask, { timeoutMs: 0 }));
      for (const op of failed) captured.add(`${set.stackSetName}/${op.OperationId ?? ''}`);
    }
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        await look();
      } catch {
        // The stack may not exist yet, or a call was throttled: look again later.
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, intervalMs);
      });
    }
  })();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
      return seen;
    },
  };
}

/**
 * Spreading discovery over several invocations: accounts one invocation could not start are sent in
 * batches to an SQS queue whose consumer is the same discover function (AWS's engine does the
 * scheduling, retries and dead-lettering; there is no home-made scheduler).
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { EksError } from './errors.js';

/** The body of one queue message. */
export interface DiscoveryBatch {
  readonly kind: 'falcon-org.eks-discovery';
  readonly accounts: readonly string[];
}

const batchSchema = z.strictObject({
  kind: z.literal('falcon-org.eks-discovery'),
  accounts: z.array(z.string().regex(/^\d{12}$/)).min(1),
});

export function parseDiscoveryBatch(body: string): DiscoveryBatch | { readonly error: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { error: 'message body is not JSON' };
  }
  const parsed = batchSchema.safeParse(json);
  return parsed.success
    ? parsed.data
    : { error: `not a discovery batch: ${parsed.error.issues[0]?.message ?? ''}` };
}

export interface DiscoveryQueue {
  /**
   * Sends the accounts in messages of at most `perMessage` accounts; `delaySeconds` (at most 900,
   * SQS's limit) holds them back: a follow-up after a run that holds a cluster's lock.
   */
  send(accounts: readonly string[], perMessage: number, delaySeconds?: number): Promise<number>;
}

/** How long a follow-up waits before the account is discovered again (SQS's longest delay). */
export const FOLLOW_UP_DELAY_SECONDS = 900;

/**
 * How long an account whose runs were deferred (CodeBuild at the pace's limit) waits before it is
 * discovered again: about the time a deployer build takes, so the next wave finds builds finished.
 */
export const DEFERRED_DELAY_SECONDS = 300;

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class SqsDiscoveryQueue implements DiscoveryQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /** Returns the number of messages sent; throws if some could not be sent after one retry. */
  async send(accounts: readonly string[], perMessage: number, delaySeconds?: number): Promise<number> {
    const bodies = chunk(accounts, perMessage).map((batch) =>
      JSON.stringify({ kind: 'falcon-org.eks-discovery', accounts: batch } satisfies DiscoveryBatch),
    );
    for (const group of chunk(bodies, 10)) {
      let entries = group.map((body, i) => ({
        Id: String(i),
        MessageBody: body,
        ...(delaySeconds !== undefined ? { DelaySeconds: Math.min(900, Math.max(0, delaySeconds)) } : {}),
      }));
      for (let attempt = 1; entries.length > 0; attempt += 1) {
        const out = await this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
        );
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        if (failed.size === 0) break;
        if (attempt >= 2) {
          throw new EksError(
            `could not queue ${failed.size} discovery batches: ${(out.Failed ?? []).map((f) => f.Code ?? f.Message).join(', ')}`,
          );
        }
        entries = entries.filter((e) => failed.has(e.Id));
      }
    }
    return bodies.length;
  }
}

import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CatalogInputError, EventApplyError } from '../errors.js';
import type { EventQueue, QueueMessage } from './follower.js';

/** An SQS queue URL: https://sqs.<region>.amazonaws.com/<account>/<name> (or a VPC or test endpoint). */
export function parseQueueUrl(url: string): { region?: string; name: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CatalogInputError(
      `"${url}" is not a queue URL; give the URL of the catalog's queue (stack output CatalogEventsQueueUrl)`,
    );
  }
  const parts = parsed.pathname.split('/').filter(Boolean);
  const name = parts[parts.length - 1];
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parts.length !== 2 || !name) {
    throw new CatalogInputError(
      `"${url}" is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>); give the stack output CatalogEventsQueueUrl`,
    );
  }
  const region = /^sqs[.-]([a-z]{2}(?:-[a-z]+)+-\d+)\./.exec(parsed.hostname)?.[1];
  return { ...(region ? { region } : {}), name };
}

/** EventQueue over SQS: long-polled ReceiveMessage, DeleteMessageBatch in tens. */
export class SqsEventQueue implements EventQueue {
  readonly name: string;

  constructor(
    private readonly sqs: SQSClient,
    private readonly url: string,
  ) {
    this.name = `sqs:${parseQueueUrl(url).name}`;
  }

  async receive(max: number, waitSeconds: number, signal?: AbortSignal): Promise<QueueMessage[]> {
    const out = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.url,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
      }),
      { abortSignal: signal },
    );
    return (out.Messages ?? []).flatMap((m) =>
      m.MessageId && m.ReceiptHandle && m.Body !== undefined
        ? [{ id: m.MessageId, body: m.Body, receipt: m.ReceiptHandle }]
        : [],
    );
  }

  async remove(receipts: readonly string[]): Promise<void> {
    const failed: string[] = [];
    for (let i = 0; i < receipts.length; i += 10) {
      const entries = receipts
        .slice(i, i + 10)
        .map((receipt, n) => ({ Id: String(n), ReceiptHandle: receipt }));
      const out = await this.sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.url, Entries: entries }),
      );
      for (const f of out.Failed ?? []) failed.push(`${f.Code ?? '?'}: ${f.Message ?? ''}`);
    }
    // A message not deleted comes back and is applied again: a duplicate the engine recognises.
    if (failed.length > 0) {
      throw new EventApplyError(
        `${failed.length} messages of ${this.name} could not be deleted (${failed[0] ?? ''}); they will be delivered again`,
      );
    }
  }
}

import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type DeleteMessageBatchCommandInput,
  type ReceiveMessageCommandInput,
} from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import { mockClient } from 'aws-sdk-client-mock';

interface Stored {
  readonly id: string;
  readonly body: string;
  receipt?: string;
  /** Hidden from receives until this time (ms since the epoch); 0: visible. */
  invisibleUntil: number;
  receives: number;
}

/**
 * An SQS standard queue behind aws-sdk-client-mock, with the behaviour the follower relies on: a
 * received message is invisible to other receivers for the visibility timeout and comes back if it
 * is not deleted; deleting takes the receipt handle of the latest receive. Every SQSClient of the
 * process talks to it (mockClient mocks the class).
 */
export class FakeSqsQueue {
  readonly url = 'https://sqs.eu-west-1.amazonaws.com/111111111111/falcon-org-catalog-events';
  private readonly messages: Stored[] = [];
  private counter = 0;
  /** Messages received, per receive call. */
  readonly deliveries: number[] = [];

  constructor(private readonly visibilityMs = 200) {
    const sqs = mockClient(SQSClient);
    sqs.on(ReceiveMessageCommand).callsFake((input: ReceiveMessageCommandInput) => this.receive(input));
    sqs
      .on(DeleteMessageBatchCommand)
      .callsFake((input: DeleteMessageBatchCommandInput) => this.remove(input));
  }

  send(...bodies: string[]): void {
    for (const body of bodies)
      this.messages.push({ id: `m${++this.counter}`, body, invisibleUntil: 0, receives: 0 });
  }

  /** Messages not yet deleted (visible or in flight). */
  get size(): number {
    return this.messages.length;
  }

  restore(): void {
    mockClient(SQSClient).restore();
  }

  private async receive(input: ReceiveMessageCommandInput) {
    // Long polling: with nothing visible, wait (a tenth of the asked time at most, tests are short).
    const visible = () => this.messages.some((m) => m.invisibleUntil <= Date.now());
    const deadline = Date.now() + Math.min(100, (input.WaitTimeSeconds ?? 0) * 100);
    while (!visible() && Date.now() < deadline) await sleep(10);
    const now = Date.now();
    const max = input.MaxNumberOfMessages ?? 1;
    const out = [];
    for (const m of this.messages) {
      if (out.length >= max) break;
      if (m.invisibleUntil > now) continue;
      m.receipt = `${m.id}-r${++m.receives}`;
      m.invisibleUntil = now + this.visibilityMs;
      out.push({ MessageId: m.id, ReceiptHandle: m.receipt, Body: m.body });
    }
    this.deliveries.push(out.length);
    return { Messages: out };
  }

  private remove(input: DeleteMessageBatchCommandInput) {
    const successful = [];
    for (const entry of input.Entries ?? []) {
      const index = this.messages.findIndex((m) => m.receipt === entry.ReceiptHandle);
      if (index >= 0) this.messages.splice(index, 1);
      successful.push({ Id: entry.Id });
    }
    return Promise.resolve({ Successful: successful, Failed: [] });
  }
}

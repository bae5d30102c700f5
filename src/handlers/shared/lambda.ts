import type { Context } from 'aws-lambda';
import { HandlerError } from './errors.js';

/** The parts of the Lambda context (`@types/aws-lambda`) the handlers use. */
export type LambdaContext = Readonly<
  Pick<Context, 'invokedFunctionArn' | 'getRemainingTimeInMillis'> & Partial<Pick<Context, 'awsRequestId'>>
>;

/** An EventBridge scheduled event. */
export interface ScheduledEvent {
  readonly source: 'aws.events';
  readonly 'detail-type': 'Scheduled Event';
  readonly id?: string;
  readonly time?: string;
}

export function isScheduledEvent(event: unknown): event is ScheduledEvent {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Record<string, unknown>;
  return e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event';
}

/** Account ID and partition of the function, from its ARN (arn:<partition>:lambda:<region>:<account>:function:<name>). */
export function functionIdentity(context: LambdaContext): {
  accountId: string;
  partition: string;
  region: string;
} {
  const parts = context.invokedFunctionArn.split(':');
  const [, partition, , region, accountId] = parts;
  if (!partition || !region || !accountId || !/^\d{12}$/.test(accountId)) {
    throw new HandlerError(`unexpected function ARN "${context.invokedFunctionArn}"`);
  }
  return { accountId, partition, region };
}

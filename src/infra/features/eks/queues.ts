import * as cdk from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** An SQS queue encrypted with SQS-managed keys that refuses requests without TLS. */
export function encryptedQueue(
  scope: Construct,
  id: string,
  props: Omit<sqs.QueueProps, 'encryption' | 'enforceSSL'> = {},
): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    ...props,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  queue.applyRemovalPolicy(cdk.RemovalPolicy.DESTROY);
  return queue;
}

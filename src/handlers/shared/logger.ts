/**
 * The one logger of the Lambda handlers: Powertools for AWS Lambda (TypeScript) Logger. Every line is one
 * JSON object `{level, message, timestamp, service, cold_start, function_arn, function_request_id, …fields}`
 * (the shape the deployer's lines share: src/shared/log-line.ts). The level comes from the
 * environment: Lambda's log-level control (`AWS_LAMBDA_LOG_LEVEL`) first, then `POWERTOOLS_LOG_LEVEL`,
 * then `LOG_LEVEL`; INFO by default.
 *
 * Adopted rather than written (issue 18): it adds about 21 KB to each bundle and no measurable cold load
 * (README › Performance). Callers pass only values that are safe to log.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { FalconEventListener } from '../../falcon/events.js';
import type { LambdaContext } from './lambda.js';
import type { LogLevel } from '../../shared/log-line.js';

/** What a handler's code needs of the logger. */
export type HandlerLogger = Pick<Logger, LogLevel>;

/**
 * One logger per handler instance, created when the handler is (once per execution environment), so
 * `cold_start` is true on the environment's first invocation only.
 */
export function createHandlerLogger(service: string): Logger {
  return new Logger({ serviceName: service });
}

/**
 * Wraps a handler so every line of an invocation carries its request ID, function ARN and cold start.
 * The context is replaced, never merged, at the start of each invocation.
 */
export function withInvocationLog<E, C extends LambdaContext, R>(
  logger: Logger,
  handler: (event: E, context: C) => Promise<R>,
): (event: E, context: C) => Promise<R> {
  return (event, context) => {
    // The handlers read only part of the context (LambdaContext); Logger copies what is there.
    logger.addContext(context as unknown as Context);
    return handler(event, context);
  };
}

/**
 * The Falcon client's events as log lines (`falcon`): token issue and revocation at debug (one per run),
 * retries, rate limits and failed revocations at info.
 */
export function logFalconEvent(logger: HandlerLogger): FalconEventListener {
  return (event) => {
    const level = event.type === 'token-issued' || event.type === 'token-revoked' ? 'debug' : 'info';
    logger[level]('falcon', { event });
  };
}

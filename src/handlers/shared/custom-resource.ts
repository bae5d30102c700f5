import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceEventCommon } from 'aws-lambda';
import { ResponseDeliveryError } from './errors.js';

/**
 * A CloudFormation custom resource request: the fields of `@types/aws-lambda`'s event the handlers read,
 * as far as `isCustomResourceEvent` checks them (the rest is optional, so a request is read field by field).
 */
export type CustomResourceEvent = Readonly<
  Pick<
    CloudFormationCustomResourceEventCommon,
    'ResponseURL' | 'StackId' | 'RequestId' | 'ResourceType' | 'LogicalResourceId'
  >
> & {
  readonly RequestType: CloudFormationCustomResourceEvent['RequestType'];
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties?: Readonly<Record<string, unknown>>;
  readonly OldResourceProperties?: Readonly<Record<string, unknown>>;
};

export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho: false;
  readonly Data?: Readonly<Record<string, string>>;
}

export function isCustomResourceEvent(event: unknown): event is CustomResourceEvent {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Record<string, unknown>;
  return (
    (e.RequestType === 'Create' || e.RequestType === 'Update' || e.RequestType === 'Delete') &&
    typeof e.ResponseURL === 'string' &&
    typeof e.StackId === 'string' &&
    typeof e.RequestId === 'string' &&
    typeof e.LogicalResourceId === 'string'
  );
}

/** CloudFormation rejects response bodies over 4 KB; the reason is shortened to fit. */
const MAX_BODY_BYTES = 4096;

/** Builds the response, shortening Reason so the body stays within CloudFormation's limit. */
export function buildResponse(
  event: CustomResourceEvent,
  status: 'SUCCESS' | 'FAILED',
  reason: string,
  physicalResourceId: string,
  data?: Readonly<Record<string, string>>,
): CustomResourceResponse {
  const base = {
    Status: status,
    Reason: reason,
    PhysicalResourceId: physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: false as const,
    ...(data ? { Data: data } : {}),
  };
  const size = Buffer.byteLength(JSON.stringify(base));
  if (size <= MAX_BODY_BYTES) return base;
  const room = Math.max(0, Buffer.byteLength(reason) - (size - MAX_BODY_BYTES) - 20);
  return {
    ...base,
    Reason: `${Buffer.from(reason)
      .subarray(0, room)
      .toString()
      .replace(/\uFFFD+$/, '')} ...(truncated)`,
  };
}

export interface SendOptions {
  /** @default 4 */
  readonly attempts?: number;
  /** Per attempt. @default 10000 */
  readonly timeoutMs?: number;
  /** First backoff; doubles per attempt. @default 500 */
  readonly backoffMs?: number;
  /**
   * Total time all attempts and pauses may take (what is left of the invocation): no attempt or pause
   * is started that would end after it, so the function never dies mid-retry. @default unbounded
   */
  readonly budgetMs?: number;
}

/**
 * PUTs the response to the pre-signed ResponseURL, retrying network errors and 5xx a few times. The
 * pre-signed URL is signed without a content type, so none is sent.
 */
export async function sendResponse(
  responseUrl: string,
  response: CustomResourceResponse,
  options: SendOptions = {},
): Promise<void> {
  const attempts = options.attempts ?? 4;
  const body = JSON.stringify(response);
  const deadline = Date.now() + (options.budgetMs ?? Number.POSITIVE_INFINITY);
  const left = (): number => deadline - Date.now();
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      // The first attempt always runs; each one is cut to what is left of the budget.
      const timeoutMs = Math.max(1, Math.min(options.timeoutMs ?? 10_000, left()));
      const status = await put(responseUrl, body, timeoutMs);
      if (status >= 200 && status < 300) return;
      lastError = new ResponseDeliveryError(`the response URL answered HTTP ${status}`);
      if (status < 500) break;
    } catch (error) {
      lastError = error;
    }
    const pause = (options.backoffMs ?? 500) * 2 ** (attempt - 1);
    // Pause only when an attempt can still follow within the budget.
    if (attempt >= attempts || pause >= left()) break;
    await sleep(pause);
  }
  const why = lastError instanceof Error ? lastError.message : String(lastError);
  throw new ResponseDeliveryError(`could not deliver the CloudFormation response: ${why}`, {
    cause: lastError,
  });
}

function put(url: string, body: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = send(
      target,
      {
        method: 'PUT',
        headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Sends the response within what is left of the invocation: every attempt and pause ends before the
 * invocation does (a second is kept to return), each attempt taking at most a third of it (1 to 10 s).
 * `overrides` (tests) replace those bounds.
 */
export async function sendResponseBeforeDeadline(
  responseUrl: string,
  response: CustomResourceResponse,
  remainingMs: number,
  overrides: SendOptions = {},
): Promise<void> {
  await sendResponse(responseUrl, response, {
    timeoutMs: Math.max(1000, Math.min(10_000, Math.floor(remainingMs / 3))),
    budgetMs: Math.max(1000, remainingMs - 1000),
    ...overrides,
  });
}

/** The outcome of work raced against a deadline. */
export type DeadlineResult<T> = { readonly finished: true; readonly value: T } | { readonly finished: false };

/**
 * Runs `work` and stops waiting for it after `ms`: the signal passed to `work` is aborted then, and the
 * result says the work did not finish. Errors of `work` are re-thrown.
 */
export async function withDeadline<T>(
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<DeadlineResult<T>> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<DeadlineResult<T>>((resolve) => {
    timer = setTimeout(
      () => {
        controller.abort(new Error('deadline reached'));
        resolve({ finished: false });
      },
      Math.max(0, ms),
    );
  });
  try {
    const running = work(controller.signal).then((value): DeadlineResult<T> => ({ finished: true, value }));
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}

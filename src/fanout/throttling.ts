/** Error names AWS services use for "slow down" (SDK v3 sets `name` from the error code). */
const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  'PriorRequestNotComplete',
]);

/** True for AWS throttling answers: a known error name, or HTTP 429 whatever the name. */
export function isThrottlingError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown }; statusCode?: unknown };
  if (typeof e.name === 'string' && THROTTLING_NAMES.has(e.name)) return true;
  return e.$metadata?.httpStatusCode === 429 || e.statusCode === 429;
}

/** Network failures worth another try (the connection broke or timed out before an answer). */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
/** Error names of AWS answers that say "try again" without saying "slow down". */
const TRANSIENT_NAMES = new Set([
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'InternalServerException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/**
 * True for failures another try may fix that are not throttling: an AWS server fault (HTTP 5xx), a
 * known transient error name, or a broken or timed-out connection.
 */
export function isTransientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500 && status !== 501) return true;
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  return typeof e.code === 'string' && TRANSIENT_CODES.has(e.code);
}

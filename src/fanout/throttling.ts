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

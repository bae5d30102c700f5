/**
 * The one way the project turns a thrown value into text for a reason, a log line or an answer to
 * CloudFormation: every line of the message on one line, the error's name when it is a service's
 * error code (AccessDenied, ThrottlingException) rather than a class name, and a cap on the whole
 * text that keeps its beginning, so a list of problems keeps its first ones and a fix command its
 * start. Never a stack. Causes are not followed: an error that wraps another says in its own
 * message what of the inner one matters (`could not read the organization: AccessDenied: …`).
 */

/**
 * The longest description: room for every problem of a settings error (the deployer's whole
 * environment wrong is about 2,000 characters) and a whole fix command, while a reason still fits
 * a log line and a runs-table item. An answer to CloudFormation is shortened to its 4 KB limit
 * where it is sent (src/handlers/shared/custom-resource.ts).
 */
export const DESCRIPTION_LIMIT = 4000;

/**
 * Example:
 * ```ts
 * describeError(Object.assign(new Error('not allowed'), { name: 'AccessDenied' })); // "AccessDenied: not allowed"
 * describeError(new DeployerSettingsError('a is not set; b is not set')); // "a is not set; b is not set"
 * ```
 */
export function describeError(error: unknown, maxLength = DESCRIPTION_LIMIT): string {
  return capText(textOf(error), maxLength);
}

/** The text, cut at `maxLength` characters with an ellipsis when longer; the beginning is kept. */
export function capText(text: string, maxLength = DESCRIPTION_LIMIT): string {
  return text.length > maxLength ? `${text.slice(0, Math.max(0, maxLength - 1))}…` : text;
}

function textOf(error: unknown): string {
  if (!(error instanceof Error)) return oneLine(String(error));
  const message = oneLine(error.message) || error.name || 'Error';
  return isServiceCode(error.name) && !message.includes(error.name) ? `${error.name}: ${message}` : message;
}

/** Lines joined by a space, runs of blanks made one. */
function oneLine(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}

/**
 * A name that tells what went wrong by itself: an AWS error code (AccessDenied,
 * ThrottlingException). Class names (`…Error`: ours, TypeError, AbortError) do not: their message
 * says it.
 */
function isServiceCode(name: string | undefined): name is string {
  return name !== undefined && name !== '' && !name.endsWith('Error');
}

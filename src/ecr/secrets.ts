import { SecretFormatError } from '../aws/secrets.js';

/** The characters IAM accepts in sts:ExternalId, and its length bounds. */
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

/**
 * Reads the external ID from its secret: the plain generated string, or a JSON object with "ExternalId".
 * The value must be usable in an IAM trust policy condition.
 */
export function parseExternalId(text: string, secretId: string): string {
  let value = text.trim();
  if (value.startsWith('{')) {
    let raw: unknown;
    try {
      raw = JSON.parse(value);
    } catch {
      throw new SecretFormatError(`secret ${secretId} looks like JSON but does not parse`);
    }
    const id = (raw as Record<string, unknown>).ExternalId;
    if (typeof id !== 'string') throw new SecretFormatError(`secret ${secretId} lacks "ExternalId"`);
    value = id.trim();
  }
  if (!EXTERNAL_ID.test(value)) {
    throw new SecretFormatError(
      `secret ${secretId} does not hold a valid external ID (2-1224 characters of letters, digits and +=,.@:/_-)`,
    );
  }
  return value;
}

import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isFalconCloud, type FalconCloud } from '../config/clouds.js';
import { SecretFormatError } from './errors.js';

/** Reads a secret's string value. */
export interface SecretReader {
  /** Throws SecretFormatError when the secret does not exist or has no string value. */
  getSecretString(secretId: string): Promise<string>;
}

/**
 * Falcon API credentials as stored in the deployment's secret. Not the HTTP client's FalconCredentials:
 * this adds the cloud and base URL the client is built for.
 */
export interface FalconApiSecret {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly cloud: FalconCloud;
  /** Explicit API base URL (proxies, emulators); overrides the cloud's. */
  readonly baseUrl?: string;
}

export class SecretsManagerReader implements SecretReader {
  constructor(private readonly client: SecretsManagerClient) {}

  async getSecretString(secretId: string): Promise<string> {
    let value: string | undefined;
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: secretId }));
      value = out.SecretString;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const reason =
        name === 'ResourceNotFoundException'
          ? 'it does not exist'
          : name === 'AccessDeniedException'
            ? 'access denied'
            : `${name}: ${error instanceof Error ? error.message : String(error)}`;
      throw new SecretFormatError(`could not read secret ${secretId}: ${reason}`, { cause: error });
    }
    if (value === undefined || value === '') {
      throw new SecretFormatError(`secret ${secretId} has no string value`);
    }
    return value;
  }
}

const CREDENTIAL_KEYS = ['ClientId', 'ClientSecret', 'Cloud'] as const;

/**
 * Parses `{"ClientId", "ClientSecret", "Cloud", "BaseUrl"?}`. Errors name the secret and the offending
 * keys, never a value.
 */
export function parseFalconCredentials(text: string, secretId: string): FalconApiSecret {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SecretFormatError(
      `secret ${secretId} is not JSON; expected {"ClientId", "ClientSecret", "Cloud"} and optionally "BaseUrl"`,
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SecretFormatError(`secret ${secretId} is not a JSON object`);
  }
  const obj = raw as Record<string, unknown>;
  const missing = CREDENTIAL_KEYS.filter((k) => typeof obj[k] !== 'string' || obj[k].trim() === '');
  if (missing.length > 0) {
    throw new SecretFormatError(
      `secret ${secretId} lacks ${missing.map((k) => `"${k}"`).join(', ')} (expected non-empty strings)`,
    );
  }
  const cloud = (obj.Cloud as string).trim().toLowerCase();
  if (!isFalconCloud(cloud)) {
    throw new SecretFormatError(
      `secret ${secretId} has an unknown "Cloud"; expected one of us-1, us-2, eu-1, us-gov-1, us-gov-2`,
    );
  }
  let baseUrl: string | undefined;
  if (obj.BaseUrl !== undefined && obj.BaseUrl !== '') {
    if (typeof obj.BaseUrl !== 'string' || !/^https?:\/\/[^\s/]+/.test(obj.BaseUrl)) {
      throw new SecretFormatError(`secret ${secretId} has an invalid "BaseUrl"; expected an http(s) URL`);
    }
    baseUrl = obj.BaseUrl.replace(/\/+$/, '');
  }
  return {
    clientId: (obj.ClientId as string).trim(),
    clientSecret: obj.ClientSecret as string,
    cloud,
    ...(baseUrl ? { baseUrl } : {}),
  };
}

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

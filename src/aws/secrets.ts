import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { UserInputError } from '../config/errors.js';

/**
 * A secret the deployment reads (a Falcon API client, the ECR external ID) is missing, unreadable or
 * malformed. The message names the secret and what is wrong, never its value.
 */
export class SecretFormatError extends UserInputError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretFormatError';
  }
}

/** Reads a secret's string value (the port; `SecretsManagerReader` is the AWS adapter). */
export interface SecretReader {
  /** Throws SecretFormatError when the secret does not exist, cannot be read or has no string value. */
  getSecretString(secretId: string): Promise<string>;
}

/** The one Secrets Manager reader every feature uses (ECR handler, coverage, deployer CLI, status). */
export class SecretsManagerReader implements SecretReader {
  constructor(private readonly client: Pick<SecretsManagerClient, 'send'>) {}

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
            ? 'access denied (secretsmanager:GetSecretValue, and kms:Decrypt for a customer managed key)'
            : `${name}: ${error instanceof Error ? error.message : String(error)}`;
      throw new SecretFormatError(`could not read secret ${secretId}: ${reason}`, { cause: error });
    }
    if (value === undefined || value === '') {
      throw new SecretFormatError(`secret ${secretId} has no string value`);
    }
    return value;
  }
}

import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretFormatError, SecretsManagerReader } from '../../src/aws/secrets.js';
import { parseExternalId } from '../../src/ecr/secrets.js';

const ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:falcon-api-AbCdEf';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretFormatError);
    return (error as Error).message;
  }
  throw new Error('expected a SecretFormatError');
}

describe('external ID secret', () => {
  it('accepts the generated plain string or {"ExternalId"}', () => {
    expect(parseExternalId('AbC123xyz987', ID)).toBe('AbC123xyz987');
    expect(parseExternalId('{"ExternalId":"AbC123"}', ID)).toBe('AbC123');
  });

  it('rejects values IAM would not accept in sts:ExternalId', () => {
    expect(problem(() => parseExternalId('has spaces in it', ID))).toMatch(/valid external ID/);
    expect(problem(() => parseExternalId('{"Other":"x"}', ID))).toMatch(/lacks "ExternalId"/);
  });
});

describe('SecretsManagerReader', () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => sm.reset());

  it('returns the string value', async () => {
    sm.on(GetSecretValueCommand, { SecretId: ID }).resolves({ SecretString: 'value' });
    await expect(
      new SecretsManagerReader(new SecretsManagerClient({ region: 'us-east-1' })).getSecretString(ID),
    ).resolves.toBe('value');
  });

  it('turns a missing secret or an empty value into a clear SecretFormatError', async () => {
    const reader = new SecretsManagerReader(new SecretsManagerClient({ region: 'us-east-1' }));
    sm.on(GetSecretValueCommand).rejectsOnce(
      new ResourceNotFoundException({ message: 'nope', $metadata: {} }),
    );
    await expect(reader.getSecretString(ID)).rejects.toThrow(
      `could not read secret ${ID}: it does not exist`,
    );
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });
    await expect(reader.getSecretString(ID)).rejects.toThrow(/has no string value/);
  });
});

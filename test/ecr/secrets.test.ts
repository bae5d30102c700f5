import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretFormatError } from '../../src/ecr/errors.js';
import { parseExternalId, parseFalconCredentials, SecretsManagerReader } from '../../src/ecr/secrets.js';

const ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:falcon-api-AbCdEf';
const SECRET_VALUE = 'very-secret-value-123';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretFormatError);
    return (error as Error).message;
  }
  throw new Error('expected a SecretFormatError');
}

describe('Falcon credentials secret', () => {
  it('reads ClientId, ClientSecret, Cloud and an optional BaseUrl', () => {
    const creds = parseFalconCredentials(
      JSON.stringify({
        ClientId: 'abc',
        ClientSecret: SECRET_VALUE,
        Cloud: 'US-2',
        BaseUrl: 'http://127.0.0.1:9/',
      }),
      ID,
    );
    expect(creds).toEqual({
      clientId: 'abc',
      clientSecret: SECRET_VALUE,
      cloud: 'us-2',
      baseUrl: 'http://127.0.0.1:9',
    });
  });

  it('names the missing keys and never the values', () => {
    const message = problem(() => parseFalconCredentials(JSON.stringify({ ClientSecret: SECRET_VALUE }), ID));
    expect(message).toContain('"ClientId", "Cloud"');
    expect(message).toContain(ID);
    expect(message).not.toContain(SECRET_VALUE);
  });

  it('says when the secret is not JSON, without echoing it', () => {
    const message = problem(() => parseFalconCredentials(`ClientSecret=${SECRET_VALUE}`, ID));
    expect(message).toMatch(/is not JSON/);
    expect(message).not.toContain(SECRET_VALUE);
  });

  it('rejects an unknown cloud and a bad base URL', () => {
    expect(
      problem(() =>
        parseFalconCredentials(JSON.stringify({ ClientId: 'a', ClientSecret: 'b', Cloud: 'us-9' }), ID),
      ),
    ).toMatch(/unknown "Cloud"/);
    expect(
      problem(() =>
        parseFalconCredentials(
          JSON.stringify({ ClientId: 'a', ClientSecret: 'b', Cloud: 'us-1', BaseUrl: 'ftp://x' }),
          ID,
        ),
      ),
    ).toMatch(/invalid "BaseUrl"/);
  });
});

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

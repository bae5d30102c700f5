import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretsManagerReader } from '../../src/aws/secrets.js';
import { createCoverageDepsFor } from '../../src/coverage/from-config.js';
import {
  clientsInUse,
  credentialWarnings,
  parseFalconClientSecret,
  parseFalconClientSecretWithCloud,
  readFalconClient,
  resolveFalconClient,
} from '../../src/falcon/credentials.js';
import { FalconCredentialsError } from '../../src/falcon/errors.js';
import { FalconScope } from '../../src/falcon/scopes.js';
import { testConfig } from '../infra/helpers.js';

const ID = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:falcon-api-AbCdEf';
const OTHER = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:falcon-ecr-GhIjKl';
const SECRET_VALUE = 'very-secret-value-123';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FalconCredentialsError);
    return (error as Error).message;
  }
  throw new Error('expected a FalconCredentialsError');
}

describe('one Falcon credentials reader: the secret', () => {
  it('reads ClientId, ClientSecret and, when present, Cloud and BaseUrl', () => {
    const text = JSON.stringify({
      ClientId: ' abc ',
      ClientSecret: SECRET_VALUE,
      Cloud: 'US-2',
      BaseUrl: 'http://127.0.0.1:9/',
    });
    expect(parseFalconClientSecretWithCloud(text, ID)).toEqual({
      clientId: 'abc',
      clientSecret: SECRET_VALUE,
      cloud: 'us-2',
      baseUrl: 'http://127.0.0.1:9',
    });
    // A secret given with credentials.source secretsManager holds only the client.
    expect(parseFalconClientSecret('{"ClientId":"id","ClientSecret":"s3cret"}', ID)).toEqual({
      clientId: 'id',
      clientSecret: 's3cret',
    });
  });

  it('names every missing key, the secret and the fix, never a value', () => {
    const message = problem(() =>
      parseFalconClientSecretWithCloud(JSON.stringify({ ClientSecret: SECRET_VALUE }), ID, {
        setting: 'falcon.clients.ecrConnections',
      }),
    );
    expect(message).toContain(`secret ${ID} lacks "ClientId", "Cloud"`);
    expect(message).toContain(`aws secretsmanager put-secret-value --secret-id ${ID}`);
    expect(message).toContain('or point falcon.clients.ecrConnections.secretArn at the secret that holds it');
    expect(message).not.toContain(SECRET_VALUE);
    expect(problem(() => parseFalconClientSecret('{"ClientId":"visible-id","ClientSecret":""}', ID))).toMatch(
      /lacks "ClientSecret"/,
    );
  });

  it('says when the secret is not JSON or not an object, without echoing it', () => {
    const message = problem(() => parseFalconClientSecret(`ClientSecret=${SECRET_VALUE}`, ID));
    expect(message).toMatch(
      /is not JSON; store the API client as a JSON object with "ClientId", "ClientSecret"/,
    );
    expect(message).not.toContain(SECRET_VALUE);
    expect(problem(() => parseFalconClientSecret('["a"]', ID))).toMatch(/is not a JSON object/);
  });

  it('rejects an unknown cloud and a bad base URL', () => {
    expect(
      problem(() =>
        parseFalconClientSecret(JSON.stringify({ ClientId: 'a', ClientSecret: 'b', Cloud: 'us-9' }), ID),
      ),
    ).toMatch(/unknown "Cloud"; expected one of us-1, us-2, eu-1, us-gov-1, us-gov-2/);
    expect(
      problem(() =>
        parseFalconClientSecret(
          JSON.stringify({ ClientId: 'a', ClientSecret: 'b', Cloud: 'us-1', BaseUrl: 'ftp://x' }),
          ID,
        ),
      ),
    ).toMatch(/invalid "BaseUrl"/);
  });
});

describe('one Falcon credentials reader: which client a feature uses', () => {
  it('falls back to the shared client (falcon.credentials) when a feature has none of its own', () => {
    const config = testConfig();
    const coverage = resolveFalconClient(config.falcon, 'coverage');
    expect(coverage).toMatchObject({
      shared: true,
      source: 'environment',
      variables: { clientId: 'FALCON_CLIENT_ID', clientSecret: 'FALCON_CLIENT_SECRET' },
      parameters: { clientId: 'FalconClientId', clientSecret: 'FalconClientSecret' },
      setting: 'falcon.credentials',
      scopes: [FalconScope.HostsRead, FalconScope.ContainerImageRead],
    });
    expect(resolveFalconClient(config.falcon, 'ecrConnections').key).toBe(coverage.key);
  });

  it("uses a feature's own client, from its secret or its own variables", () => {
    const config = testConfig({
      falcon: {
        credentials: { source: 'secretsManager', secretArn: ID },
        clients: {
          ecrConnections: { source: 'secretsManager', secretArn: OTHER },
          eksProtection: { source: 'environment' },
          coverage: { source: 'secretsManager', secretArn: ID },
        },
      },
    });
    expect(resolveFalconClient(config.falcon, 'ecrConnections')).toMatchObject({
      shared: false,
      secretArn: OTHER,
      setting: 'falcon.clients.ecrConnections',
    });
    expect(resolveFalconClient(config.falcon, 'eksProtection')).toMatchObject({
      shared: false,
      source: 'environment',
      variables: { clientId: 'FALCON_EKS_CLIENT_ID', clientSecret: 'FALCON_EKS_CLIENT_SECRET' },
      parameters: { clientId: 'FalconEksClientId', clientSecret: 'FalconEksClientSecret' },
    });
    // The very same secret as the shared client is the shared client.
    expect(resolveFalconClient(config.falcon, 'coverage').shared).toBe(true);
    expect(resolveFalconClient(config.falcon, 'ssmDistributor')).toMatchObject({
      shared: true,
      secretArn: ID,
    });
  });

  it('lists only the clients of what is deployed', () => {
    const config = testConfig({ features: { ecrConnections: { enabled: true } } });
    expect(clientsInUse(config).map((c) => c.feature)).toEqual(['ssmDistributor', 'ecrConnections']);
  });

  it('reads a client from the environment, naming the variables not set and the setting', async () => {
    const config = testConfig({ falcon: { clients: { coverage: { source: 'environment' } } } });
    const client = resolveFalconClient(config.falcon, 'coverage');
    const secrets = () => {
      throw new Error('no secret is read with source environment');
    };
    await expect(
      readFalconClient(client, {
        env: { FALCON_COVERAGE_CLIENT_ID: ' id ', FALCON_COVERAGE_CLIENT_SECRET: 's' },
        secrets,
      }),
    ).resolves.toEqual({ clientId: 'id', clientSecret: 's' });
    // The shared variables are not the coverage client's.
    await expect(
      readFalconClient(client, { env: { FALCON_CLIENT_ID: 'id', FALCON_CLIENT_SECRET: 's' }, secrets }),
    ).rejects.toThrow(
      'FALCON_COVERAGE_CLIENT_ID and FALCON_COVERAGE_CLIENT_SECRET are not set; falcon.clients.coverage.source is "environment"',
    );
  });

  describe('from Secrets Manager', () => {
    const sm = mockClient(SecretsManagerClient);
    afterEach(() => sm.reset());

    it("reads the feature's own secret, and names the key and the setting when it is incomplete", async () => {
      const config = testConfig({
        falcon: { clients: { coverage: { source: 'secretsManager', secretArn: OTHER } } },
      });
      const client = resolveFalconClient(config.falcon, 'coverage');
      const secrets = () => new SecretsManagerReader(new SecretsManagerClient({ region: 'us-east-1' }));
      sm.on(GetSecretValueCommand, { SecretId: OTHER }).resolves({
        SecretString: JSON.stringify({ ClientId: 'cov', ClientSecret: SECRET_VALUE }),
      });
      await expect(readFalconClient(client, { env: {}, secrets })).resolves.toEqual({
        clientId: 'cov',
        clientSecret: SECRET_VALUE,
      });
      sm.on(GetSecretValueCommand, { SecretId: OTHER }).resolves({ SecretString: '{"ClientId":"cov"}' });
      await expect(readFalconClient(client, { env: {}, secrets })).rejects.toThrow(
        /lacks "ClientSecret".*or point falcon\.clients\.coverage\.secretArn at the secret that holds it/,
      );
    });

    it('`status` refuses a secret without ClientSecret instead of going on with blank credentials', async () => {
      const config = testConfig({
        falcon: { credentials: { source: 'secretsManager', secretArn: ID } },
        coverage: { enabled: true },
      });
      sm.on(GetSecretValueCommand).resolves({ SecretString: '{"ClientId":"only-the-id"}' });
      const { settingsFor } = await import('../../src/coverage/from-config.js');
      const settings = await settingsFor(config);
      const error = await createCoverageDepsFor(config, settings, {}, {}).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(FalconCredentialsError);
      expect(error?.message).toContain(`secret ${ID} lacks "ClientSecret"`);
      expect(error?.message).toContain('falcon.credentials.secretArn');
    });
  });
});

describe('validate/plan warnings about what reaches a cluster', () => {
  const eks = { features: { eksProtection: { enabled: true } } };

  it('warns when the shared client would be copied into every cluster', () => {
    const warnings = credentialWarnings(testConfig(eks));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.path).toBe('features.eksProtection');
    expect(warnings[0]?.message).toContain(
      'copies the shared Falcon API client (falcon.credentials) into a Secret on every cluster',
    );
    expect(warnings[0]?.message).toContain(
      'Falcon Images Download: Read and Sensor Download: Read (falcon.clients.eksProtection)',
    );
  });

  it("warns when the clusters' client is the ECR client, which has write scopes", () => {
    const warnings = credentialWarnings(
      testConfig({
        ...eks,
        falcon: {
          clients: {
            eksProtection: { source: 'secretsManager', secretArn: OTHER },
            ecrConnections: { source: 'secretsManager', secretArn: OTHER },
          },
        },
      }),
    );
    expect(warnings).toEqual([
      {
        path: 'falcon.clients.eksProtection',
        message: expect.stringContaining(
          'is also the client of ecrConnections, which needs Falcon Container Image: Write',
        ) as unknown,
      },
    ]);
  });

  it('says nothing when the clusters have their own client, or EKS protection is off', () => {
    expect(
      credentialWarnings(
        testConfig({ ...eks, falcon: { clients: { eksProtection: { source: 'environment' } } } }),
      ),
    ).toEqual([]);
    expect(credentialWarnings(testConfig())).toEqual([]);
  });
});

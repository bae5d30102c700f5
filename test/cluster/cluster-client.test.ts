import { describe, expect, it } from 'vitest';
import { environmentFromConfig } from '../../src/cluster/from-config.js';
import { FalconCredentialsError } from '../../src/falcon/errors.js';
import { testConfig } from '../infra/helpers.js';

/*
 * `falcon-org eks deploy-cluster` puts into the cluster the clusters' own client
 * (falcon.clients.eksProtection) when one is configured, never the shared one.
 */
const OPTIONS = {
  accountId: '123456789012',
  region: 'eu-central-1',
  cluster: 'prod',
  compute: 'nodes' as const,
  mode: 'install' as const,
};

describe("the clusters' Falcon client from the configuration", () => {
  it("uses falcon.clients.eksProtection's variables, not the shared client's", async () => {
    const config = testConfig({
      features: { eksProtection: { enabled: true } },
      falcon: { clients: { eksProtection: { source: 'environment' } } },
    });
    const environment = await environmentFromConfig(config, OPTIONS, {
      FALCON_CLIENT_ID: 'shared-id',
      FALCON_CLIENT_SECRET: 'shared-secret',
      FALCON_EKS_CLIENT_ID: 'eks-id',
      FALCON_EKS_CLIENT_SECRET: 'eks-secret',
    });
    expect(environment).toMatchObject({ clientId: 'eks-id', clientSecret: 'eks-secret' });

    const error = await environmentFromConfig(config, OPTIONS, {
      FALCON_CLIENT_ID: 'shared-id',
      FALCON_CLIENT_SECRET: 'shared-secret',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FalconCredentialsError);
    expect((error as Error).message).toContain(
      'FALCON_EKS_CLIENT_ID and FALCON_EKS_CLIENT_SECRET are not set; falcon.clients.eksProtection.source is "environment"',
    );
    expect((error as Error).message).toContain('Falcon Images Download: Read, Sensor Download: Read');
  });

  it('falls back to the shared client when the clusters have none of their own', async () => {
    const config = testConfig({ features: { eksProtection: { enabled: true } } });
    const environment = await environmentFromConfig(config, OPTIONS, {
      FALCON_CLIENT_ID: 'shared-id',
      FALCON_CLIENT_SECRET: 'shared-secret',
    });
    expect(environment).toMatchObject({ clientId: 'shared-id', clientSecret: 'shared-secret' });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mirrorFalconImages, falconRegistry } from '../../src/cluster/mirror.js';
import { runDeployer } from '../../src/cluster/run.js';
import { createFalconClient } from '../../src/falcon/client.js';
import { fetchCcid, fetchRegistryPullToken, registryPullUser } from '../../src/falcon/container-images.js';
import { OciRegistryClient } from '../../src/registry/client.js';
import { FakeFalconImagesApi } from '../fakes/falcon-container-images.js';
import { buildImage, pushImage } from '../services/oci-images.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';
import { DeployerHarness, settingsFor } from './harness.js';

describe('mirroring Falcon images into the home ECR', () => {
  let crowdstrike: LocalRegistry;
  let ecr: LocalRegistry;
  let source: OciRegistryClient;
  let target: OciRegistryClient;
  const created: string[] = [];
  const image = buildImage({ layers: 2 });
  const older = buildImage({ layers: 1 });

  beforeAll(async () => {
    [crowdstrike, ecr] = await Promise.all([startRegistry({ auth: 'basic' }), startRegistry()]);
    source = new OciRegistryClient({ url: crowdstrike.url, credentials: crowdstrike.credentials });
    target = new OciRegistryClient({ url: ecr.url });
    await pushImage(source, 'falcon-sensor/us-1/release/falcon-sensor', older, ['7.9.0-100']);
    await pushImage(source, 'falcon-sensor/us-1/release/falcon-sensor', image, ['7.20.0-17306']);
    await pushImage(source, 'falcon-kac/us-1/release/falcon-kac', older, ['7.18.0-1']);
  }, 60_000);
  afterAll(async () => {
    await crowdstrike?.stop();
    await ecr?.stop();
  });

  const deps = () => ({
    source,
    sourceRegion: 'us-1',
    target,
    targetHost: '999988887777.dkr.ecr.us-east-1.amazonaws.com',
    ensureRepository: (name: string) => {
      created.push(name);
      return Promise.resolve();
    },
  });

  it('copies the newest sensor and the KAC image registry to registry and pins them by digest', async () => {
    const settings = settingsFor('v1.0.0', {
      falcon: { cloud: 'us-1' },
      mirrorImages: { enabled: true, repositoryPrefix: 'falcon-org/crowdstrike', tags: {} },
    });
    const overrides = await mirrorFalconImages(deps(), 'nodes', settings);
    expect(overrides).toEqual({
      nodeSensor: `999988887777.dkr.ecr.us-east-1.amazonaws.com/falcon-org/crowdstrike/falcon-sensor@${image.digest}`,
      admission: `999988887777.dkr.ecr.us-east-1.amazonaws.com/falcon-org/crowdstrike/falcon-kac@${older.digest}`,
    });
    expect(created).toEqual(['falcon-org/crowdstrike/falcon-sensor', 'falcon-org/crowdstrike/falcon-kac']);
    expect((await target.headManifest('falcon-org/crowdstrike/falcon-sensor', '7.20.0-17306'))?.digest).toBe(
      image.digest,
    );
  });

  it('a configured tag wins over the newest; the deployer puts the mirrored image into the custom resource', async () => {
    const settings = settingsFor('v1.0.0', {
      admission: { enabled: false, failurePolicy: 'Ignore', replicas: 1 },
      mirrorImages: { enabled: true, repositoryPrefix: 'mirror', tags: { 'falcon-sensor': '7.9.0-100' } },
    });
    const h = await DeployerHarness.start();
    try {
      const result = await runDeployer(h.request('nodes'), settings, {
        ...h.deps(),
        mirrorImages: () => mirrorFalconImages(deps(), 'nodes', settings),
      });
      expect(result.outcome, result.reason).toBe('protected');
      const sensor = h.customResources().find((c) => c['kind'] === 'FalconNodeSensor')!;
      expect((sensor['spec'] as { node: { image: string } }).node.image).toBe(
        `999988887777.dkr.ecr.us-east-1.amazonaws.com/mirror/falcon-sensor@${older.digest}`,
      );
    } finally {
      await h.close();
    }
  });

  it('reads the CID and the pull token from the Falcon API and derives the pull user', async () => {
    const api = await FakeFalconImagesApi.start();
    const falcon = createFalconClient({
      baseUrl: api.baseUrl,
      credentials: { clientId: api.clientId, clientSecret: api.clientSecret },
    });
    try {
      const ccid = await fetchCcid(falcon.api);
      expect(ccid).toBe('0123456789ABCDEF0123456789ABCDEF-A1');
      expect(registryPullUser(ccid)).toBe('fc-0123456789abcdef0123456789abcdef');
      expect(await fetchRegistryPullToken(falcon.api)).toBe('pull-token-value');
      expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /oauth2/token',
        'GET /sensors/queries/installers/ccid/v1',
        'GET /container-security/entities/image-registry-credentials/v1',
      ]);
    } finally {
      await falcon.close();
      await api.close();
    }
  });

  it('government clouds pull from their own registries', () => {
    expect(falconRegistry('us-gov-1').url).not.toBe(falconRegistry('us-1').url);
    expect(falconRegistry('eu-1')).toEqual({ url: 'https://registry.crowdstrike.com', region: 'eu-1' });
  });
});

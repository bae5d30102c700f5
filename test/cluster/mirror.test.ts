import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findFalconImage,
  mirrorFalconImages,
  falconRegistry,
  type MirrorDeps,
} from '../../src/cluster/mirror.js';
import { runDeployer } from '../../src/cluster/run.js';
import { createFalconClient } from '../../src/falcon/client.js';
import { fetchCcid, fetchRegistryPullToken, registryPullUser } from '../../src/falcon/container-images.js';
import { OciRegistryClient } from '../../src/registry/client.js';
import { FakeFalconImagesApi } from '../fakes/falcon-container-images.js';
import { buildImage, pushImage } from '../services/oci-images.js';
import { startRegistry, type LocalRegistry } from '../services/registry.js';
import { DeployerHarness, settingsFor } from './harness.js';

/** The ECR host the mirrored references name. */
const TARGET_HOST = '999988887777.dkr.ecr.us-east-1.amazonaws.com';

interface RegistryPair {
  crowdstrike: LocalRegistry;
  ecr: LocalRegistry;
  /** CrowdStrike's registry, authenticated; ECR. */
  source: OciRegistryClient;
  target: OciRegistryClient;
  /** Mirror repositories `ensureRepository` was asked for. */
  created: string[];
  deps(): MirrorDeps;
}

/**
 * A CrowdStrike registry and an ECR (Debian's docker-registry each), started once for the describe
 * block that calls this, with the source seeded by `seed`.
 */
function registryPair(
  auth: 'basic' | 'token',
  sourceRegion: string,
  seed: (source: OciRegistryClient) => Promise<void>,
): RegistryPair {
  const pair = { created: [] as string[] } as unknown as RegistryPair;
  pair.deps = () => ({
    source: pair.source,
    sourceRegion,
    target: pair.target,
    targetHost: TARGET_HOST,
    ensureRepository: (name: string) => {
      pair.created.push(name);
      return Promise.resolve();
    },
  });
  beforeAll(async () => {
    [pair.crowdstrike, pair.ecr] = await Promise.all([startRegistry({ auth }), startRegistry()]);
    pair.source = new OciRegistryClient({
      url: pair.crowdstrike.url,
      credentials: pair.crowdstrike.credentials,
    });
    pair.target = new OciRegistryClient({ url: pair.ecr.url });
    await seed(pair.source);
  }, 60_000);
  afterAll(async () => {
    pair.source?.close();
    pair.target?.close();
    await pair.crowdstrike?.stop();
    await pair.ecr?.stop();
  });
  return pair;
}

describe('mirroring Falcon images into the home ECR', () => {
  const image = buildImage({ layers: 2 });
  const older = buildImage({ layers: 1 });
  const r = registryPair('basic', 'us-1', async (source) => {
    await pushImage(source, 'falcon-sensor/us-1/release/falcon-sensor', older, ['7.9.0-100']);
    await pushImage(source, 'falcon-sensor/us-1/release/falcon-sensor', image, ['7.20.0-17306']);
    await pushImage(source, 'falcon-kac/us-1/release/falcon-kac', older, ['7.18.0-1']);
  });
  const deps = () => r.deps();

  it('copies the newest sensor and the KAC image registry to registry and pins them by digest', async () => {
    const settings = settingsFor('v1.0.0', {
      falcon: { cloud: 'us-1' },
      mirrorImages: { enabled: true, repositoryPrefix: 'falcon-org/crowdstrike', tags: {} },
    });
    const overrides = await mirrorFalconImages(deps(), 'nodes', settings);
    expect(overrides).toEqual({
      nodeSensor: `${TARGET_HOST}/falcon-org/crowdstrike/falcon-sensor@${image.digest}`,
      admission: `${TARGET_HOST}/falcon-org/crowdstrike/falcon-kac@${older.digest}`,
    });
    expect(r.created).toEqual(['falcon-org/crowdstrike/falcon-sensor', 'falcon-org/crowdstrike/falcon-kac']);
    expect(
      (await r.target.headManifest('falcon-org/crowdstrike/falcon-sensor', '7.20.0-17306'))?.digest,
    ).toBe(image.digest);
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
        `${TARGET_HOST}/mirror/falcon-sensor@${older.digest}`,
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

  it('per-region sidecar repository: only tags of the container kind are sidecar images', async () => {
    const sidecar = buildImage({ layers: 1 });
    const other = buildImage({ layers: 1 });
    const repository = 'falcon-container/us-1/release/falcon-sensor';
    await pushImage(r.source, repository, sidecar, ['7.29.0-6801.container.Release.US-1']);
    // Newer and starting with a digit, but not a sidecar build: the operator's filter leaves it out.
    await pushImage(r.source, repository, other, ['7.30.0-7001-1.falcon-linux.Release.US-1']);
    expect(await findFalconImage(r.source, 'containerSensor', 'us-1')).toEqual({
      repository,
      tag: '7.29.0-6801.container.Release.US-1',
    });
    const settings = settingsFor('v1.0.0', {
      admission: { enabled: false, failurePolicy: 'Ignore', replicas: 1 },
      mirrorImages: { enabled: true, repositoryPrefix: 'kind', tags: {} },
    });
    expect(await mirrorFalconImages(deps(), 'fargate', settings)).toEqual({
      containerSensor: `${TARGET_HOST}/kind/falcon-container@${sidecar.digest}`,
    });
  });

  it('names both repositories it looked in when neither has the image, and when it cannot read them', async () => {
    await expect(findFalconImage(r.source, 'containerSensor', 'eu-1')).rejects.toThrow(
      /no version tag of falcon-container to mirror: looked in falcon-container\/release\/falcon-container \(no such repository or no tags\) and falcon-container\/eu-1\/release\/falcon-sensor \(no such repository or no tags\).*mirrorImages\.tags\.falcon-container/,
    );
    const stranger = new OciRegistryClient({
      url: r.crowdstrike.url,
      credentials: { username: 'fc-someone-else', password: 'wrong' },
    });
    try {
      await expect(findFalconImage(stranger, 'nodeSensor', 'us-1')).rejects.toThrow(
        /looked in falcon-sensor\/release\/falcon-sensor \(not readable: HTTP 401\) and falcon-sensor\/us-1\/release\/falcon-sensor \(not readable: HTTP 401\)/,
      );
    } finally {
      stranger.close();
    }
  });

  it('government clouds pull from their own registries', () => {
    expect(falconRegistry('us-gov-1').url).not.toBe(falconRegistry('us-1').url);
    expect(falconRegistry('eu-1')).toEqual({ url: 'https://registry.crowdstrike.com', region: 'eu-1' });
  });
});

describe('mirroring where CrowdStrike publishes unified (region-less) images, as falcon-operator v1.13.0 does', () => {
  const unifiedSensor = buildImage({ layers: 1 });
  const regionalSensor = buildImage({ layers: 1 });
  const unifiedSidecar = buildImage({ layers: 1 });
  const regionalKac = buildImage({ layers: 1 });
  const unifiedKacLatest = buildImage({ layers: 1 });
  const r = registryPair('token', 'us-2', async (source) => {
    await pushImage(source, 'falcon-sensor/release/falcon-sensor', unifiedSensor, ['7.31.0-18410-1']);
    // A newer build in the per-region repository does not win: the unified repository is looked at first.
    await pushImage(source, 'falcon-sensor/us-2/release/falcon-sensor', regionalSensor, [
      '7.32.0-18501-1.falcon-linux.Release.US-2',
    ]);
    await pushImage(source, 'falcon-container/release/falcon-container', unifiedSidecar, ['7.33.0-7201-1']);
    // The unified KAC repository exists but has no version tag yet: the per-region one is used.
    await pushImage(source, 'falcon-kac/release/falcon-kac', unifiedKacLatest, ['latest']);
    await pushImage(source, 'falcon-kac/us-2/release/falcon-kac', regionalKac, ['7.29.0-6801-1']);
  });
  const deps = () => r.deps();
  const host = `${TARGET_HOST}/falcon-org/crowdstrike`;

  it('takes the unified repository first and falls back to the per-region one per image', async () => {
    const settings = settingsFor('v1.0.0', {
      falcon: { cloud: 'us-2' },
      mirrorImages: { enabled: true, repositoryPrefix: 'falcon-org/crowdstrike', tags: {} },
    });
    expect(await mirrorFalconImages(deps(), 'mixed', settings)).toEqual({
      nodeSensor: `${host}/falcon-sensor@${unifiedSensor.digest}`,
      containerSensor: `${host}/falcon-container@${unifiedSidecar.digest}`,
      admission: `${host}/falcon-kac@${regionalKac.digest}`,
    });
    expect(await r.target.listTags('falcon-org/crowdstrike/falcon-sensor')).toEqual(['7.31.0-18410-1']);
    expect(await r.target.listTags('falcon-org/crowdstrike/falcon-kac')).toEqual(['7.29.0-6801-1']);
  });

  it('a configured tag is looked for in the same order: unified, then per-region', async () => {
    expect(await findFalconImage(r.source, 'nodeSensor', 'us-2', '7.31.0-18410-1')).toEqual({
      repository: 'falcon-sensor/release/falcon-sensor',
      tag: '7.31.0-18410-1',
    });
    expect(
      await findFalconImage(r.source, 'nodeSensor', 'us-2', '7.32.0-18501-1.falcon-linux.Release.US-2'),
    ).toEqual({
      repository: 'falcon-sensor/us-2/release/falcon-sensor',
      tag: '7.32.0-18501-1.falcon-linux.Release.US-2',
    });
    await expect(findFalconImage(r.source, 'admission', 'us-2', 'latest')).rejects.toThrow(
      "mirrorImages.tags.falcon-kac is latest, which CrowdStrike's registry does not publish: looked in falcon-kac/release/falcon-kac (no tag latest) and falcon-kac/us-2/release/falcon-kac (no tag latest)",
    );
  });
});

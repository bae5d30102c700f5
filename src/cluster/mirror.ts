import type { FalconCloud } from '../config/clouds.js';
import type { ComputeMode } from '../eks/run-contract.js';
import type { OciRegistryClient } from '../registry/client.js';
import { copyImage } from '../registry/copy.js';
import { RegistryAuthError, RegistryHttpError } from '../registry/errors.js';
import type { ImageOverrides } from './custom-resources.js';
import { ClusterError } from './errors.js';
import type { DeployerRunSettings } from './settings.js';

/**
 * Where CrowdStrike publishes its images per Falcon cloud, and the repository of each image there
 * (the layout CrowdStrike's own pull script uses). Government clouds have registries of their own.
 */
export function falconRegistry(cloud: FalconCloud): { readonly url: string; readonly region: string } {
  switch (cloud) {
    case 'us-gov-1':
      return { url: 'https://registry.laggar.gcw.crowdstrike.com', region: 'gov1' };
    case 'us-gov-2':
      return { url: 'https://registry.us-gov-2.crowdstrike.mil', region: 'gov2' };
    default:
      return { url: 'https://registry.crowdstrike.com', region: cloud };
  }
}

/**
 * Where each Falcon image is published, in the order falcon-operator v1.13.0 looks
 * (pkg/registry/falcon_registry, node.go and container.go): first the region-less ("unified")
 * repository, then the per-region one. In the per-region sidecar repository only tags of the
 * container kind (`….container.…`) are sidecar images; the unified repositories hold one kind each.
 */
export const FALCON_IMAGES = {
  nodeSensor: {
    name: 'falcon-sensor',
    unified: 'falcon-sensor/release/falcon-sensor',
    regional: (r: string) => `falcon-sensor/${r}/release/falcon-sensor`,
  },
  containerSensor: {
    name: 'falcon-container',
    unified: 'falcon-container/release/falcon-container',
    regional: (r: string) => `falcon-container/${r}/release/falcon-sensor`,
    regionalKind: '.container',
  },
  admission: {
    name: 'falcon-kac',
    unified: 'falcon-kac/release/falcon-kac',
    regional: (r: string) => `falcon-kac/${r}/release/falcon-kac`,
  },
} as const satisfies Record<
  string,
  { name: string; unified: string; regional: (r: string) => string; regionalKind?: string }
>;

export type FalconImage = keyof typeof FALCON_IMAGES;

export interface MirrorDeps {
  /** CrowdStrike's registry, authenticated as `fc-<cid>` with the pull token. */
  readonly source: OciRegistryClient;
  readonly sourceRegion: string;
  /** The home account's ECR registry. */
  readonly target: OciRegistryClient;
  /** e.g. `999988887777.dkr.ecr.us-east-1.amazonaws.com` (what the cluster pulls from). */
  readonly targetHost: string;
  /** Creates the ECR repository when it does not exist yet. */
  ensureRepository(name: string): Promise<void>;
}

/** The images a cluster needs, by compute mode and admission. */
export function imagesFor(compute: ComputeMode, settings: DeployerRunSettings): FalconImage[] {
  const out: FalconImage[] = [];
  if (compute !== 'fargate') out.push('nodeSensor');
  if (compute === 'fargate' || compute === 'mixed') out.push('containerSensor');
  if (settings.admission.enabled) out.push('admission');
  return out;
}

/** Where one image is taken from: the repository in CrowdStrike's registry and the tag. */
export interface FalconImageSource {
  readonly repository: string;
  readonly tag: string;
}

/**
 * Newest tag by numeric-aware ordering ("7.9.0-100" < "7.20.0-17306"). The operator takes the last
 * tag in the order the registry lists them; sorting here gives the same answer without relying on
 * that order.
 */
function newestTag(tags: readonly string[]): string | undefined {
  return [...tags].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
}

/**
 * The tags of a repository, or why there are none to take: an empty list when the registry does
 * not have it (404, which `listTags` answers with no tags) and the refused status when it will not
 * show it to this customer (401/403 after authenticating). Any other failure (network,
 * 5xx after retries) is thrown: falling back on a passing outage would switch a cluster between
 * the unified and the per-region image from one run to the next.
 */
async function tagsOf(
  source: OciRegistryClient,
  repository: string,
): Promise<{ tags: string[] } | { refused: number }> {
  try {
    return { tags: await source.listTags(repository) };
  } catch (error) {
    if (
      error instanceof RegistryAuthError ||
      (error instanceof RegistryHttpError && (error.status === 403 || error.status === 404))
    ) {
      return { refused: error.status };
    }
    throw error;
  }
}

/**
 * Finds an image the way falcon-operator v1.13.0 does: the unified repository first, then the
 * per-region one, each time keeping only tags that start with a digit (and, in the per-region
 * sidecar repository, that are of the container kind). The wanted tag, when configured, must be
 * one of those; otherwise the newest is taken.
 */
export async function findFalconImage(
  source: OciRegistryClient,
  image: FalconImage,
  sourceRegion: string,
  wantedTag?: string,
): Promise<FalconImageSource> {
  const spec: (typeof FALCON_IMAGES)[FalconImage] & { regionalKind?: string } = FALCON_IMAGES[image];
  const places = [
    { repository: spec.unified, kind: undefined },
    { repository: spec.regional(sourceRegion), kind: spec.regionalKind },
  ];
  const looked: string[] = [];
  for (const { repository, kind } of places) {
    const listed = await tagsOf(source, repository);
    if ('refused' in listed) {
      looked.push(`${repository} (not readable: HTTP ${listed.refused})`);
      continue;
    }
    const usable = listed.tags.filter((t) => /^\d/.test(t) && (kind === undefined || t.includes(kind)));
    const tag = wantedTag === undefined ? newestTag(usable) : usable.find((t) => t === wantedTag);
    if (tag !== undefined) return { repository, tag };
    looked.push(
      `${repository} (${
        listed.tags.length === 0
          ? 'no such repository or no tags'
          : wantedTag !== undefined
            ? `no tag ${wantedTag}${kind !== undefined ? ` containing "${kind}"` : ''}`
            : `no tag starting with a digit${kind !== undefined ? ` and containing "${kind}"` : ''}`
      })`,
    );
  }
  throw new ClusterError(
    wantedTag === undefined
      ? `no version tag of ${spec.name} to mirror: looked in ${looked.join(' and ')}; check the Falcon cloud and the CID's entitlements, or set mirrorImages.tags.${spec.name}`
      : `mirrorImages.tags.${spec.name} is ${wantedTag}, which CrowdStrike's registry does not publish: looked in ${looked.join(' and ')}; set a published tag or remove it to take the newest`,
  );
}

/**
 * Copies the Falcon images the cluster needs from CrowdStrike's registry into the home account's
 * ECR (registry to registry over the OCI distribution API, digests unchanged, no Docker) and
 * returns the image references the custom resources should use. Each image comes from where
 * {@link findFalconImage} finds it: the configured tag or the newest published.
 */
export async function mirrorFalconImages(
  deps: MirrorDeps,
  compute: ComputeMode,
  settings: DeployerRunSettings,
): Promise<ImageOverrides> {
  const overrides: Partial<Record<FalconImage, string>> = {};
  for (const image of imagesFor(compute, settings)) {
    const spec = FALCON_IMAGES[image];
    const found = await findFalconImage(
      deps.source,
      image,
      deps.sourceRegion,
      settings.mirrorImages.tags[spec.name],
    );
    const targetRepository = `${settings.mirrorImages.repositoryPrefix}/${spec.name}`;
    await deps.ensureRepository(targetRepository);
    const copied = await copyImage(
      { client: deps.source, repository: found.repository, reference: found.tag },
      { client: deps.target, repository: targetRepository, tags: [found.tag] },
    );
    overrides[image] = `${deps.targetHost}/${targetRepository}@${copied.digest}`;
  }
  return overrides;
}

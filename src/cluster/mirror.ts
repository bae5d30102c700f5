import type { FalconCloud } from '../config/clouds.js';
import type { ComputeMode } from '../eks/run-contract.js';
import type { OciRegistryClient } from '../registry/client.js';
import { copyImage } from '../registry/copy.js';
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

export const FALCON_IMAGES = {
  nodeSensor: {
    name: 'falcon-sensor',
    repository: (r: string) => `falcon-sensor/${r}/release/falcon-sensor`,
  },
  containerSensor: {
    name: 'falcon-container',
    repository: (r: string) => `falcon-container/${r}/release/falcon-sensor`,
  },
  admission: { name: 'falcon-kac', repository: (r: string) => `falcon-kac/${r}/release/falcon-kac` },
} as const;

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

/** Numeric-aware ordering of sensor tags ("7.20.0-17306" < "7.21.0-17401"). */
function newestTag(tags: readonly string[]): string | undefined {
  const versioned = tags.filter((t) => /^\d+\.\d+/.test(t));
  return versioned.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
}

/**
 * Copies the Falcon images the cluster needs from CrowdStrike's registry into the home account's
 * ECR (registry to registry over the OCI distribution API, digests unchanged, no Docker) and
 * returns the image references the custom resources should use. The tag is the configured one or
 * the newest published.
 */
export async function mirrorFalconImages(
  deps: MirrorDeps,
  compute: ComputeMode,
  settings: DeployerRunSettings,
): Promise<ImageOverrides> {
  const overrides: Partial<Record<FalconImage, string>> = {};
  for (const image of imagesFor(compute, settings)) {
    const spec = FALCON_IMAGES[image];
    const sourceRepository = spec.repository(deps.sourceRegion);
    const tag =
      settings.mirrorImages.tags[spec.name] ?? newestTag(await deps.source.listTags(sourceRepository));
    if (tag === undefined) {
      throw new ClusterError(
        `no version tag of ${sourceRepository} to mirror; set mirrorImages.tags.${spec.name}`,
      );
    }
    const targetRepository = `${settings.mirrorImages.repositoryPrefix}/${spec.name}`;
    await deps.ensureRepository(targetRepository);
    const copied = await copyImage(
      { client: deps.source, repository: sourceRepository, reference: tag },
      { client: deps.target, repository: targetRepository, tags: [tag] },
    );
    overrides[image] = `${deps.targetHost}/${targetRepository}@${copied.digest}`;
  }
  return overrides;
}

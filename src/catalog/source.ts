import type { Span } from './events/instant.js';

/**
 * What the catalog engine needs from a registry: the repositories, then each repository's images
 * with their tags. Implemented in src/registry for OCI distribution registries and for ECR.
 */
export interface ImageRecord {
  /** sha256:… of the manifest or index the tags point at. */
  readonly digest: string;
  readonly tags: readonly string[];
  readonly mediaType?: string;
  /** For an index/manifest list: "os/arch[/variant]" of each child manifest. */
  readonly platforms?: readonly string[];
  /** ISO-8601, where the source gives it (ECR does, the OCI API does not). */
  readonly pushedAt?: string;
  /** Bytes, where the source gives it. */
  readonly sizeBytes?: number;
}

/**
 * What the catalog already knows about one repository, handed to `listImages` so a source can skip
 * work on a warm scan. Manifests are content-addressed: the details of a digest cannot change, so a
 * source that has confirmed a tag's current digest (e.g. with a manifest HEAD or a conditional GET)
 * may take the image's details from `describe` instead of fetching the manifest again.
 */
export interface KnownImages {
  /** Each tag's digest as of the last successful scan of this repository. */
  readonly tagDigests: ReadonlyMap<string, string>;
  /** Details of a digest already catalogued anywhere in this registry, or undefined. */
  describe(digest: string): ImageRecord | undefined;
}

export interface RegistrySource {
  /** Stable identifier of the registry, e.g. "http://127.0.0.1:5000" or "ecr://123456789012/us-east-1". */
  readonly registry: string;
  /** Every repository name (all pages). */
  listRepositories(signal?: AbortSignal): Promise<string[]>;
  /** Every tagged image of one repository (all pages), one record per digest with all its tags. */
  listImages(repository: string, signal?: AbortSignal, known?: KnownImages): Promise<ImageRecord[]>;
  /**
   * The registry's current time on its own clock (e.g. from an HTTP Date header), so what a scan
   * observed can be compared with the times the registry stamps on its events. Absent or undefined:
   * the local clock is used, widened by a margin.
   */
  registryTime?(signal?: AbortSignal): Promise<Span | undefined>;
  /** Releases what the source holds open (pooled connections, SDK clients); called once the scan is over. */
  close?(): void;
}

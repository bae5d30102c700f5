import type { Span } from './instant.js';
import type { ImageDetails } from './plan-events.js';

/**
 * What applying events may ask of the registry that sent them: one lookup of a tag or an image when
 * an event's time falls within what the catalog last observed, and the details of an image new to
 * the catalog. Implemented for OCI registries (src/registry/oci-source.ts) and ECR (ecr-source.ts).
 */
export interface RegistryProbe {
  /** The catalog's registry id. */
  readonly registry: string;
  /**
   * 'registry': an image's details are content-addressed, the same in every repository (OCI);
   * 'repository': each repository has its own (ECR's push time).
   */
  readonly detailsScope: 'registry' | 'repository';
  /** See RegistrySource.registryTime. */
  registryTime?(signal?: AbortSignal): Promise<Span | undefined>;
  /** The digest a tag points at now; undefined when there is no such tag. */
  resolveTag(repository: string, tag: string, signal?: AbortSignal): Promise<string | undefined>;
  /** Whether an image (manifest) exists now. */
  imageExists(repository: string, digest: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * Media type, platforms, size (and push time, where the registry keeps one) of an image;
   * undefined when it no longer exists. Throws UnreadableImageError (src/catalog/errors.ts) for an
   * image that cannot be read, any other error when the registry could not be asked.
   */
  describeImage(repository: string, digest: string, signal?: AbortSignal): Promise<ImageDetails | undefined>;
}

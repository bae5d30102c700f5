import { spanOfHttpDate, type Span } from '../catalog/events/instant.js';
import type { ImageDetails } from '../catalog/events/plan-events.js';
import type { RegistryProbe } from '../catalog/events/probe.js';
import type { ImageRecord, KnownImages, RegistrySource } from '../catalog/source.js';
import { UnreadableImageError } from '../catalog/errors.js';
import { DigestMismatchError, ManifestFormatError } from './errors.js';
import type { OciRegistryClient } from './client.js';
import { limiter, mapWithConcurrency, type Limiter } from '../fanout/concurrency.js';
import { imageSizeOf, isIndex, manifestMediaType, parseManifest, platformsOf } from './manifest.js';
import { isSchema1MediaType } from './media-types.js';

/**
 * How listImages reads each tag's manifest:
 * - 'auto' (default): 'get' when the caller knows nothing of the repository (cold scan), 'head' when
 *   it passes the repository's known tags (warm scan: most digests known, no manifest bodies read).
 * - 'get': one GET per tag; the digest is the sha256 of the body, and the same answer
 *   gives media type, platforms of an index and size of an image. One request per tag: the fastest
 *   full scan.
 * - 'head': one HEAD per tag (no body), then one GET per digest not seen before and not known to the
 *   caller (`knownDigest`). For re-scans where most digests are known, and registries that count
 *   GETs against a rate limit (HEADs are usually free).
 * - 'head-only': HEADs only: digest, tags and media type, no platforms or size.
 */
export type ManifestMode = 'auto' | 'get' | 'head' | 'head-only';

export interface OciSourceOptions {
  readonly client: OciRegistryClient;
  /** `n` for `_catalog` and `tags/list` pages. @default 1000 */
  readonly pageSize?: number;
  /**
   * Manifest requests in flight, shared by every listImages call of this source (so the total does
   * not grow with the number of repositories the caller scans at once). Against the local
   * docker-registry, 16–32 in flight was fastest; 192 was about half as fast. @default 32
   */
  readonly concurrency?: number;
  /** @default 'auto' */
  readonly mode?: ManifestMode;
  /**
   * 'head' mode: digests whose details the caller already has (e.g. from its store) and does not
   * pass through `KnownImages.describe`; no GET for them, their records carry digest, tags and
   * media type only.
   */
  readonly knownDigest?: (digest: string) => boolean;
}

const DEFAULT_MANIFEST_CONCURRENCY = 32;

interface Details {
  readonly mediaType: string | undefined;
  readonly platforms?: string[];
  readonly sizeBytes?: number;
}

function detailsRecord(details: Details): ImageDetails {
  return {
    ...(details.mediaType ? { mediaType: details.mediaType } : {}),
    ...(details.platforms ? { platforms: details.platforms } : {}),
    ...(details.sizeBytes !== undefined ? { sizeBytes: details.sizeBytes } : {}),
  };
}

/**
 * RegistrySource over the OCI distribution API: `_catalog` for repositories; per repository all
 * tag pages, then one manifest request per tag (bounded concurrency, see ManifestMode), grouped by
 * digest. Details are cached per digest for the life of the source (content-addressed, so valid
 * across repositories).
 *
 * @example
 * const source = new OciRegistrySource({ client: new OciRegistryClient({ url }), pageSize: 100 });
 * for (const repo of await source.listRepositories()) console.log(await source.listImages(repo));
 */
export class OciRegistrySource implements RegistrySource, RegistryProbe {
  readonly registry: string;
  readonly detailsScope = 'registry';
  private readonly details = new Map<string, Details>();
  private readonly manifestRequests: Limiter;

  constructor(private readonly options: OciSourceOptions) {
    this.registry = options.client.url;
    this.manifestRequests = limiter(options.concurrency ?? DEFAULT_MANIFEST_CONCURRENCY);
  }

  /** Releases the client's pooled connections (the client stays usable: it reconnects when asked again). */
  close(): void {
    this.options.client.close();
  }

  async registryTime(signal?: AbortSignal): Promise<Span | undefined> {
    return spanOfHttpDate(await this.options.client.serverDate(signal));
  }

  async resolveTag(repository: string, tag: string, signal?: AbortSignal): Promise<string | undefined> {
    return (await this.options.client.headManifest(repository, tag, signal))?.digest;
  }

  async imageExists(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.options.client.headManifest(repository, digest, signal)) !== undefined;
  }

  /** One GET of the manifest (cached per digest for the life of the source, like a scan's). */
  async describeImage(
    repository: string,
    digest: string,
    signal?: AbortSignal,
  ): Promise<ImageDetails | undefined> {
    const cached = this.details.get(digest);
    if (cached) return detailsRecord(cached);
    try {
      const manifest = await this.options.client.getManifest(repository, digest, signal);
      return (
        manifest && detailsRecord(this.detailsFrom(repository, digest, manifest.bytes, manifest.mediaType))
      );
    } catch (error) {
      // The probe's contract (src/catalog/events/probe.ts): content that cannot be read is the catalog's error.
      if (error instanceof ManifestFormatError || error instanceof DigestMismatchError) {
        throw new UnreadableImageError(error.message, { cause: error });
      }
      throw error;
    }
  }

  listRepositories(signal?: AbortSignal): Promise<string[]> {
    return this.options.client.listRepositories({ ...this.pageOptions(), ...(signal ? { signal } : {}) });
  }

  async listImages(repository: string, signal?: AbortSignal, known?: KnownImages): Promise<ImageRecord[]> {
    const { client } = this.options;
    const chosen = this.options.mode ?? 'auto';
    const mode = chosen !== 'auto' ? chosen : known && known.tagDigests.size > 0 ? 'head' : 'get';
    const tags = [
      ...new Set(await client.listTags(repository, { ...this.pageOptions(), ...(signal ? { signal } : {}) })),
    ];
    const byDigest = new Map<string, { tags: string[]; mediaType: string | undefined; details?: Details }>();
    await mapWithConcurrency(
      tags,
      this.manifestRequests,
      async (tag) => {
        let digest: string;
        let mediaType: string | undefined;
        let details: Details | undefined;
        if (mode === 'get') {
          const manifest = await client.getManifest(repository, tag, signal);
          if (!manifest) return; // the tag went away between the listing and the GET
          digest = manifest.digest;
          details = this.detailsFrom(repository, digest, manifest.bytes, manifest.mediaType);
          mediaType = details.mediaType;
        } else {
          const head = await client.headManifest(repository, tag, signal);
          if (!head) return;
          ({ digest, mediaType } = head);
        }
        const entry = byDigest.get(digest) ?? { tags: [], mediaType, ...(details ? { details } : {}) };
        entry.tags.push(tag);
        byDigest.set(digest, entry);
      },
      signal,
    );
    const digests = [...byDigest.keys()].sort();
    return mapWithConcurrency(
      digests,
      this.manifestRequests,
      async (digest) => {
        const entry = byDigest.get(digest) ?? { tags: [], mediaType: undefined };
        const details =
          entry.details ??
          (mode === 'head' ? await this.fetchDetails(repository, digest, known, signal) : undefined);
        const mediaType = details?.mediaType ?? entry.mediaType;
        return {
          digest,
          tags: entry.tags.sort(),
          ...(mediaType ? { mediaType } : {}),
          ...(details?.platforms ? { platforms: details.platforms } : {}),
          ...(details?.sizeBytes !== undefined ? { sizeBytes: details.sizeBytes } : {}),
        };
      },
      signal,
    );
  }

  private async fetchDetails(
    repository: string,
    digest: string,
    known: KnownImages | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Details | undefined> {
    const cached = this.details.get(digest);
    if (cached) return cached;
    const described = known?.describe(digest);
    if (described) {
      return {
        mediaType: described.mediaType,
        ...(described.platforms ? { platforms: [...described.platforms] } : {}),
        ...(described.sizeBytes !== undefined ? { sizeBytes: described.sizeBytes } : {}),
      };
    }
    if (this.options.knownDigest?.(digest)) return undefined;
    const manifest = await this.options.client.getManifest(repository, digest, signal);
    return manifest && this.detailsFrom(repository, digest, manifest.bytes, manifest.mediaType);
  }

  private detailsFrom(
    repository: string,
    digest: string,
    bytes: Uint8Array,
    contentType: string | undefined,
  ): Details {
    const cached = this.details.get(digest);
    if (cached) return cached;
    // Legacy schema 1 has neither index children nor a config descriptor: catalog its type only.
    if (isSchema1MediaType(contentType)) return { mediaType: contentType };
    const doc = parseManifest(bytes, `${repository}@${digest}`);
    const mediaType = manifestMediaType(doc, contentType);
    const size = imageSizeOf(doc);
    const details: Details = isIndex(doc, mediaType)
      ? { mediaType, platforms: platformsOf(doc) }
      : { mediaType, ...(size !== undefined ? { sizeBytes: size } : {}) };
    this.details.set(digest, details);
    return details;
  }

  private pageOptions(): { pageSize?: number } {
    return this.options.pageSize ? { pageSize: this.options.pageSize } : {};
  }
}

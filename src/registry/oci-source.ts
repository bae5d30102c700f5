import type { ImageRecord, RegistrySource } from '../catalog/source.js';
import type { OciRegistryClient } from './client.js';
import { mapWithConcurrency } from './concurrency.js';
import { imageSizeOf, isIndex, manifestMediaType, parseManifest, platformsOf } from './manifest.js';
import { isIndexMediaType } from './media-types.js';

/**
 * What listImages reads beyond one HEAD per tag:
 * - 'all': one GET per digest not seen before → platforms of an index, size of an image;
 * - 'index': a GET only for indexes (platforms), none for single images (no size);
 * - 'none': HEADs only (digest, tags, media type).
 */
export type ManifestDetails = 'all' | 'index' | 'none';

export interface OciSourceOptions {
  readonly client: OciRegistryClient;
  /** `n` for `_catalog` and `tags/list` pages. @default 1000 */
  readonly pageSize?: number;
  /** Manifest requests in flight per listImages call. @default 16 */
  readonly concurrency?: number;
  /** @default 'all' */
  readonly details?: ManifestDetails;
  /**
   * Digests whose details the caller already has (e.g. from its store): no GET for them, their
   * records carry digest, tags and media type only. Makes a re-scan one HEAD per tag.
   */
  readonly knownDigest?: (digest: string) => boolean;
}

interface Details {
  readonly mediaType: string | undefined;
  readonly platforms?: string[];
  readonly sizeBytes?: number;
}

/**
 * RegistrySource over the OCI distribution API: `_catalog` for repositories; per repository all
 * tag pages, one manifest HEAD per tag (bounded concurrency) grouped by digest, then a GET per
 * new digest for details (see ManifestDetails). Details are cached per digest for the life of the
 * source (content-addressed, so valid across repositories).
 *
 * @example
 * const source = new OciRegistrySource({ client: new OciRegistryClient({ url }), pageSize: 100 });
 * for (const repo of await source.listRepositories()) console.log(await source.listImages(repo));
 */
export class OciRegistrySource implements RegistrySource {
  readonly registry: string;
  private readonly details = new Map<string, Details>();

  constructor(private readonly options: OciSourceOptions) {
    this.registry = options.client.url;
  }

  listRepositories(signal?: AbortSignal): Promise<string[]> {
    return this.options.client.listRepositories({ ...this.pageOptions(), ...(signal ? { signal } : {}) });
  }

  async listImages(repository: string, signal?: AbortSignal): Promise<ImageRecord[]> {
    const { client } = this.options;
    const concurrency = this.options.concurrency ?? 16;
    const tags = [
      ...new Set(await client.listTags(repository, { ...this.pageOptions(), ...(signal ? { signal } : {}) })),
    ];
    const heads = await mapWithConcurrency(tags, concurrency, (tag) =>
      client.headManifest(repository, tag, signal),
    );
    const byDigest = new Map<string, { tags: string[]; mediaType: string | undefined }>();
    heads.forEach((head, i) => {
      if (!head) return; // the tag went away between the listing and the HEAD
      const entry = byDigest.get(head.digest) ?? { tags: [], mediaType: head.mediaType };
      entry.tags.push(tags[i]);
      byDigest.set(head.digest, entry);
    });
    const digests = [...byDigest.keys()].sort();
    return mapWithConcurrency(digests, concurrency, async (digest) => {
      const entry = byDigest.get(digest)!;
      const details = await this.detailsOf(repository, digest, entry.mediaType, signal);
      const mediaType = details?.mediaType ?? entry.mediaType;
      return {
        digest,
        tags: entry.tags.sort(),
        ...(mediaType ? { mediaType } : {}),
        ...(details?.platforms ? { platforms: details.platforms } : {}),
        ...(details?.sizeBytes !== undefined ? { sizeBytes: details.sizeBytes } : {}),
      };
    });
  }

  private async detailsOf(
    repository: string,
    digest: string,
    mediaType: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Details | undefined> {
    const mode = this.options.details ?? 'all';
    if (mode === 'none' || (mode === 'index' && mediaType !== undefined && !isIndexMediaType(mediaType)))
      return undefined;
    const cached = this.details.get(digest);
    if (cached) return cached;
    if (this.options.knownDigest?.(digest)) return undefined;
    const manifest = await this.options.client.getManifest(repository, digest, signal);
    if (!manifest) return undefined;
    const doc = parseManifest(manifest.bytes, `${repository}@${digest}`);
    const type = manifestMediaType(doc, manifest.mediaType);
    const size = imageSizeOf(doc);
    const details: Details = isIndex(doc, type)
      ? { mediaType: type, platforms: platformsOf(doc) }
      : { mediaType: type, ...(size !== undefined ? { sizeBytes: size } : {}) };
    this.details.set(digest, details);
    return details;
  }

  private pageOptions(): { pageSize?: number } {
    return this.options.pageSize ? { pageSize: this.options.pageSize } : {};
  }
}

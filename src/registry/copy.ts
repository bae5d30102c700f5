import type { OciRegistryClient } from './client.js';
import { mapWithConcurrency } from '../fanout/concurrency.js';
import { RegistryError } from './errors.js';
import { blobsOf, isIndex, manifestMediaType, parseManifest } from './manifest.js';

export interface ImageLocation {
  readonly client: OciRegistryClient;
  readonly repository: string;
}

export interface CopyOptions {
  /** Blob copies in flight. @default 4 */
  readonly concurrency?: number;
  /** Blobs larger than this are uploaded in PATCH chunks. @default 16 MiB */
  readonly chunkSize?: number;
  readonly signal?: AbortSignal;
}

export interface CopyResult {
  /** Digest of the top manifest or index, identical in source and target. */
  readonly digest: string;
  readonly manifests: number;
  readonly blobsUploaded: number;
  readonly blobsMounted: number;
  /** Already in the target repository. */
  readonly blobsSkipped: number;
}

/**
 * Copies an image or index (by tag or digest) from one repository to another, on the same or
 * another registry, byte for byte so digests stay: for an index every child first; for an image
 * each blob missing in the target (HEAD), mounted across repositories when both are on the same
 * registry, else downloaded and uploaded; then the manifest by digest, then under each tag.
 * Blobs pass through memory (fine for mirroring images; not meant for multi-GB layers).
 */
export async function copyImage(
  source: ImageLocation & { readonly reference: string },
  target: ImageLocation & { readonly tags?: readonly string[] },
  options: CopyOptions = {},
): Promise<CopyResult> {
  const { signal } = options;
  const counts = { manifests: 0, blobsUploaded: 0, blobsMounted: 0, blobsSkipped: 0 };
  const sameRegistry = source.client.url === target.client.url;

  const copyBlob = async (digest: string): Promise<void> => {
    if (await target.client.hasBlob(target.repository, digest, signal)) {
      counts.blobsSkipped++;
      return;
    }
    let location: string | undefined;
    if (sameRegistry && source.repository !== target.repository) {
      const mount = await target.client.mountBlob(target.repository, digest, source.repository, signal);
      if (mount.mounted) {
        counts.blobsMounted++;
        return;
      }
      location = mount.location;
    }
    const bytes = await source.client.getBlob(source.repository, digest, signal);
    await target.client.uploadBlob(target.repository, bytes, {
      ...(location ? { location } : {}),
      ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
      ...(signal ? { signal } : {}),
    });
    counts.blobsUploaded++;
  };

  const copyManifest = async (
    reference: string,
  ): Promise<{ digest: string; bytes: Uint8Array; mediaType: string }> => {
    const manifest = await source.client.getManifest(source.repository, reference, signal);
    if (!manifest) {
      throw new RegistryError(`copy: ${source.client.url}/${source.repository}:${reference} does not exist`);
    }
    const doc = parseManifest(manifest.bytes, `${source.repository}@${manifest.digest}`);
    const mediaType = manifestMediaType(doc, manifest.mediaType);
    if (!mediaType)
      throw new RegistryError(`copy: ${source.repository}@${manifest.digest} has no media type`);
    if (isIndex(doc, mediaType)) {
      for (const child of doc.manifests ?? []) {
        if (!(await target.client.headManifest(target.repository, child.digest, signal)))
          await copyManifest(child.digest);
      }
    } else {
      const blobs = [...new Set(blobsOf(doc).map((b) => b.digest))];
      await mapWithConcurrency(blobs, options.concurrency ?? 4, copyBlob);
    }
    const stored = await target.client.putManifest(
      target.repository,
      manifest.digest,
      manifest.bytes,
      mediaType,
      signal,
    );
    if (stored !== manifest.digest) {
      throw new RegistryError(`copy: target stored ${target.repository}@${manifest.digest} as ${stored}`);
    }
    counts.manifests++;
    return { digest: manifest.digest, bytes: manifest.bytes, mediaType };
  };

  const top = await copyManifest(source.reference);
  for (const tag of target.tags ?? []) {
    await target.client.putManifest(target.repository, tag, top.bytes, top.mediaType, signal);
  }
  return { digest: top.digest, ...counts };
}

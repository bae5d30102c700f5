import { randomBytes } from 'node:crypto';

import type { OciRegistryClient } from '../../src/registry/client.js';
import { mapWithConcurrency } from '../../src/fanout/concurrency.js';
import { sha256Digest } from '../../src/registry/digest.js';
import { MediaType } from '../../src/registry/media-types.js';

/** A blob with its bytes, ready to upload. */
export interface TestBlob {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly bytes: Uint8Array;
}

/** A single-platform image: manifest bytes plus the config and layer blobs it references. */
export interface TestImage {
  readonly kind: 'image';
  readonly mediaType: string;
  readonly digest: string;
  readonly bytes: Uint8Array;
  readonly platform: string;
  readonly blobs: readonly TestBlob[];
  /** config + layers, what ImageRecord.sizeBytes should report. */
  readonly sizeBytes: number;
}

/** A multi-platform index (OCI) or manifest list (Docker) and its child images. */
export interface TestIndex {
  readonly kind: 'index';
  readonly mediaType: string;
  readonly digest: string;
  readonly bytes: Uint8Array;
  readonly platforms: readonly string[];
  readonly children: readonly TestImage[];
}

export type TestArtifact = TestImage | TestIndex;
export type ImageFormat = 'oci' | 'docker';

export interface BuildImageOptions {
  /** @default 'oci' */
  readonly format?: ImageFormat;
  /** "os/arch[/variant]". @default 'linux/amd64' */
  readonly platform?: string;
  /** Random layers to create. @default 1 */
  readonly layers?: number;
  /** Bytes per random layer. @default 256 */
  readonly layerSize?: number;
  /** Layers to reuse (e.g. one shared blob for big fixtures); appended after the random ones. */
  readonly sharedLayers?: readonly TestBlob[];
  /** Reuse this config blob instead of a fresh one (OCI only: pair with `annotations` to vary the digest). */
  readonly config?: TestBlob;
  /** Manifest annotations (OCI only). */
  readonly annotations?: Readonly<Record<string, string>>;
}

const enc = (value: unknown): Uint8Array => new Uint8Array(Buffer.from(JSON.stringify(value), 'utf8'));

function blob(mediaType: string, bytes: Uint8Array): TestBlob {
  return { mediaType, bytes, digest: sha256Digest(bytes), size: bytes.length };
}

function splitPlatform(platform: string): { os: string; architecture: string; variant?: string } {
  const [os = 'linux', architecture = 'amd64', variant] = platform.split('/');
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/** A random layer blob (arbitrary bytes: the registry does not look inside layers). */
export function randomLayer(size = 256, format: ImageFormat = 'oci'): TestBlob {
  return blob(
    format === 'oci' ? MediaType.OciLayer : MediaType.DockerLayer,
    new Uint8Array(randomBytes(size)),
  );
}

/** An image config blob naming the platform and the layers' diff ids; unique thanks to a random label. */
export function imageConfig(
  platform: string,
  layers: readonly TestBlob[],
  format: ImageFormat = 'oci',
): TestBlob {
  const p = splitPlatform(platform);
  const config = {
    architecture: p.architecture,
    os: p.os,
    ...(p.variant ? { variant: p.variant } : {}),
    created: '2026-01-01T00:00:00Z',
    config: { Labels: { 'falcon-org.test.nonce': randomBytes(8).toString('hex') } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  };
  return blob(format === 'oci' ? MediaType.OciConfig : MediaType.DockerConfig, enc(config));
}

/** Builds a random single-platform image (OCI manifest or Docker v2 manifest). */
export function buildImage(options: BuildImageOptions = {}): TestImage {
  const format = options.format ?? 'oci';
  const platform = options.platform ?? 'linux/amd64';
  const layers = [
    ...Array.from({ length: options.layers ?? 1 }, () => randomLayer(options.layerSize ?? 256, format)),
    ...(options.sharedLayers ?? []),
  ];
  const config = options.config ?? imageConfig(platform, layers, format);
  const descriptor = (b: TestBlob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });
  const mediaType = format === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest;
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: descriptor(config),
    layers: layers.map(descriptor),
    ...(format === 'oci' && options.annotations ? { annotations: options.annotations } : {}),
  };
  const bytes = enc(manifest);
  return {
    kind: 'image',
    mediaType,
    bytes,
    digest: sha256Digest(bytes),
    platform,
    blobs: [config, ...layers],
    sizeBytes: config.size + layers.reduce((s, l) => s + l.size, 0),
  };
}

/** Builds an OCI index or Docker manifest list over fresh random images, one per platform. */
export function buildIndex(options: { format?: ImageFormat; platforms?: readonly string[] } = {}): TestIndex {
  const format = options.format ?? 'oci';
  const platforms = options.platforms ?? ['linux/amd64', 'linux/arm64/v8'];
  const children = platforms.map((platform) => buildImage({ format, platform }));
  const mediaType = format === 'oci' ? MediaType.OciIndex : MediaType.DockerManifestList;
  const index = {
    schemaVersion: 2,
    mediaType,
    manifests: children.map((c) => ({
      mediaType: c.mediaType,
      digest: c.digest,
      size: c.bytes.length,
      platform: splitPlatform(c.platform),
    })),
  };
  const bytes = enc(index);
  return { kind: 'index', mediaType, bytes, digest: sha256Digest(bytes), platforms, children };
}

/**
 * Pushes an image or index (children, then blobs not already there, then the manifest by digest
 * and under each tag). Returns the digest.
 */
export async function pushImage(
  client: OciRegistryClient,
  repository: string,
  artifact: TestArtifact,
  tags: readonly string[] = [],
): Promise<string> {
  if (artifact.kind === 'index') {
    for (const child of artifact.children) await pushImage(client, repository, child);
  } else {
    for (const b of artifact.blobs) {
      if (!(await client.hasBlob(repository, b.digest))) await client.uploadBlob(repository, b.bytes);
    }
  }
  await client.putManifest(repository, artifact.digest, artifact.bytes, artifact.mediaType);
  for (const tag of tags) await client.putManifest(repository, tag, artifact.bytes, artifact.mediaType);
  return artifact.digest;
}

/**
 * Points `tag` at the image `digest` of the same repository (retag, or move a tag: a tag that
 * pointed elsewhere now points here). The manifest bytes are re-PUT unchanged, so the digest stays.
 */
export async function tagImage(
  client: OciRegistryClient,
  repository: string,
  digest: string,
  tag: string,
): Promise<void> {
  const manifest = await client.getManifest(repository, digest);
  if (!manifest?.mediaType) throw new Error(`tagImage: ${repository}@${digest} not found`);
  await client.putManifest(repository, tag, manifest.bytes, manifest.mediaType);
}

/**
 * Deletes one tag, leaving the image and its other tags alone. The distribution API deletes only
 * by digest, and deleting a digest removes every tag on it; so the tag is first moved onto a fresh
 * throw-away manifest (reusing the image's own blobs) that no other tag references, and that
 * manifest is deleted by digest. Returns false when the tag did not exist.
 */
export async function deleteTag(
  client: OciRegistryClient,
  repository: string,
  tag: string,
): Promise<boolean> {
  const current = await client.getManifest(repository, tag);
  if (!current) return false;
  const doc = JSON.parse(Buffer.from(current.bytes).toString('utf8')) as Record<string, unknown>;
  // A Docker manifest has no annotations field: the throw-away copy uses the OCI media type.
  const mediaType = doc.manifests !== undefined ? MediaType.OciIndex : MediaType.OciManifest;
  const annotations = { 'falcon-org.test.delete': randomBytes(8).toString('hex') };
  const bytes = enc({ ...doc, mediaType, annotations });
  const digest = await client.putManifest(repository, tag, bytes, mediaType);
  await client.deleteManifest(repository, digest);
  return true;
}

/** Deletes an image (manifest or index) by digest; every tag on it disappears with it. */
export function deleteImage(client: OciRegistryClient, repository: string, digest: string): Promise<boolean> {
  return client.deleteManifest(repository, digest);
}

export interface FixtureOptions {
  readonly repositories: number;
  readonly tagsPerRepository: number;
  /** Repository names are `<prefix>-<nnnn>`. @default 'repo' */
  readonly prefix?: string;
  /** Requests in flight. @default 32 */
  readonly concurrency?: number;
}

/**
 * Pushes a large fixture fast: every tag is a distinct OCI image (its own manifest digest, varied
 * by an annotation) over one config and one layer blob shared by all images. The blobs are uploaded
 * once and cross-repository mounted into every other repository, so a tag costs one manifest PUT.
 * Returns the repository names.
 */
export async function pushFixture(client: OciRegistryClient, options: FixtureOptions): Promise<string[]> {
  const prefix = options.prefix ?? 'repo';
  const concurrency = options.concurrency ?? 32;
  const names = Array.from(
    { length: options.repositories },
    (_, i) => `${prefix}-${String(i).padStart(4, '0')}`,
  );
  const layer = randomLayer(512);
  const config = imageConfig('linux/amd64', [layer]);
  const first = names[0];
  if (first === undefined) return [];
  for (const b of [config, layer]) await client.uploadBlob(first, b.bytes);
  const work = names.flatMap((repository) =>
    Array.from({ length: options.tagsPerRepository }, (_, t) => ({ repository, tag: `v${t}` })),
  );
  await mapWithConcurrency(names, concurrency, async (repository) => {
    if (repository === first) return;
    for (const b of [config, layer]) {
      const mount = await client.mountBlob(repository, b.digest, first);
      if (!mount.mounted) await client.uploadBlob(repository, b.bytes, { location: mount.location });
    }
  });
  await mapWithConcurrency(work, concurrency, async ({ repository, tag }) => {
    const image = buildImage({
      config,
      layers: 0,
      sharedLayers: [layer],
      annotations: { 'falcon-org.test.image': `${repository}:${tag}` },
    });
    await client.putManifest(repository, tag, image.bytes, image.mediaType);
  });
  return names;
}

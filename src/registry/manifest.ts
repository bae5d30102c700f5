import { ManifestFormatError } from './errors.js';
import { isIndexMediaType } from './media-types.js';

/** A content descriptor as it appears in manifests and indexes. */
export interface Descriptor {
  readonly mediaType?: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { readonly os?: string; readonly architecture?: string; readonly variant?: string };
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The parts of an image manifest or index the client uses (unknown fields are kept in the raw bytes). */
export interface ManifestDocument {
  readonly schemaVersion: number;
  readonly mediaType?: string;
  readonly config?: Descriptor;
  readonly layers?: readonly Descriptor[];
  readonly manifests?: readonly Descriptor[];
}

function isDescriptor(value: unknown): value is Descriptor {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Record<string, unknown>;
  return typeof d.digest === 'string' && typeof d.size === 'number';
}

/** Parses manifest bytes, checking just enough structure to walk children and blobs safely. */
export function parseManifest(bytes: Uint8Array, what: string): ManifestDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new ManifestFormatError(`${what}: manifest is not JSON`, { cause: error });
  }
  if (typeof doc !== 'object' || doc === null)
    throw new ManifestFormatError(`${what}: manifest is not an object`);
  const m = doc as Record<string, unknown>;
  if (typeof m.schemaVersion !== 'number') throw new ManifestFormatError(`${what}: schemaVersion missing`);
  if (m.schemaVersion !== 2) {
    throw new ManifestFormatError(`${what}: schemaVersion ${m.schemaVersion} is not supported (only 2)`);
  }
  for (const key of ['layers', 'manifests'] as const) {
    const list = m[key];
    if (list !== undefined && (!Array.isArray(list) || !list.every(isDescriptor))) {
      throw new ManifestFormatError(`${what}: ${key} is not a list of descriptors`);
    }
  }
  if (m.config !== undefined && !isDescriptor(m.config)) {
    throw new ManifestFormatError(`${what}: config is not a descriptor`);
  }
  return doc as ManifestDocument;
}

/** The media type of a manifest: the registry's Content-Type, else the document's own field, else inferred. */
export function manifestMediaType(
  doc: ManifestDocument,
  contentType: string | undefined,
): string | undefined {
  if (contentType && contentType !== 'application/json' && contentType !== 'text/plain') return contentType;
  if (doc.mediaType) return doc.mediaType;
  if (doc.manifests) return 'application/vnd.oci.image.index.v1+json';
  if (doc.config) return 'application/vnd.oci.image.manifest.v1+json';
  return contentType;
}

/**
 * "os/arch[/variant]" of each child of an index, in index order, without duplicates. Entries
 * without a platform and `unknown/unknown` ones (build attestations) are left out.
 */
export function platformsOf(doc: ManifestDocument): string[] {
  const out: string[] = [];
  for (const child of doc.manifests ?? []) {
    const p = child.platform;
    if (!p?.os || !p.architecture || (p.os === 'unknown' && p.architecture === 'unknown')) continue;
    const name = [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** config + layers bytes of an image manifest; undefined for an index (its children are not fetched). */
export function imageSizeOf(doc: ManifestDocument): number | undefined {
  if (doc.manifests || !doc.config) return undefined;
  return doc.config.size + (doc.layers ?? []).reduce((sum, l) => sum + l.size, 0);
}

/** Blobs an image manifest references (config first); none for an index. */
export function blobsOf(doc: ManifestDocument): Descriptor[] {
  if (doc.manifests) return [];
  return [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])];
}

export function isIndex(doc: ManifestDocument, mediaType: string | undefined): boolean {
  return isIndexMediaType(mediaType) || (doc.manifests !== undefined && doc.config === undefined);
}

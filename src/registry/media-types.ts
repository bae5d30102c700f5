/** Manifest media types the client asks for and understands. */
export const MediaType = {
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  /** Legacy signed schema 1: never asked for, but registries still serve old images this way. */
  DockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  DockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** `Accept` for manifest HEAD/GET: every manifest and index type, so the registry never down-converts. */
export const MANIFEST_ACCEPT = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
].join(', ');

/** True for an OCI index or a Docker manifest list (a manifest whose children are manifests). */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

/**
 * True for a Docker schema 1 manifest. Its digest is that of the payload without signatures, so it
 * is not the sha256 of the bytes served: the registry's Docker-Content-Digest is authoritative.
 */
export function isSchema1MediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.DockerSchema1Signed || mediaType === MediaType.DockerSchema1;
}

/** The media type without parameters (`; charset=…`), as registries sometimes append them. */
export function bareMediaType(contentType: string | null | undefined): string | undefined {
  if (!contentType) return undefined;
  const bare = contentType.split(';')[0]?.trim();
  return bare ? bare : undefined;
}

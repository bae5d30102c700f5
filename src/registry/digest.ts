import { createHash } from 'node:crypto';

import { DigestMismatchError } from './errors.js';

/** `sha256:<hex>` of the bytes, as registries name manifests and blobs. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Throws DigestMismatchError unless the bytes hash to the expected digest. */
export function verifyDigest(what: string, expected: string, bytes: Uint8Array): void {
  const actual = sha256Digest(bytes);
  if (actual !== expected) throw new DigestMismatchError(what, expected, actual);
}

import { createHash } from 'node:crypto';

import { DigestMismatchError } from './errors.js';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** `sha256:<hex>` of the bytes, as registries name manifests and blobs. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** True for a sha256 content digest (the only algorithm registries use in practice). */
export function isDigest(reference: string): boolean {
  return DIGEST.test(reference);
}

/** Throws DigestMismatchError unless the bytes hash to the expected digest. */
export function verifyDigest(what: string, expected: string, bytes: Uint8Array): void {
  const actual = sha256Digest(bytes);
  if (actual !== expected) throw new DigestMismatchError(what, expected, actual);
}

import type { ImageRecord, KnownImages, RegistrySource } from '../../src/catalog/source.js';

/**
 * An in-memory registry: repositories of tags pointing at digests. Behaves like a real source
 * (one record per digest with all its tags, sorted), and records which repositories were listed.
 */
export class FakeRegistry implements RegistrySource {
  readonly repos = new Map<string, Map<string, string>>();
  readonly failing = new Set<string>();
  readonly details = new Map<string, Omit<ImageRecord, 'digest' | 'tags'>>();
  readonly knownSeen = new Map<string, KnownImages | undefined>();
  failListing = false;
  /** How often close() was called. */
  closed = 0;

  constructor(readonly registry = 'http://fake.test') {}

  tag(repository: string, tag: string, digest: string): this {
    let repo = this.repos.get(repository);
    if (!repo) this.repos.set(repository, (repo = new Map<string, string>()));
    repo.set(tag, digest);
    return this;
  }

  untag(repository: string, tag: string): this {
    this.repos.get(repository)?.delete(tag);
    return this;
  }

  deleteRepository(repository: string): this {
    this.repos.delete(repository);
    return this;
  }

  close(): void {
    this.closed += 1;
  }

  listRepositories(): Promise<string[]> {
    if (this.failListing) return Promise.reject(new Error('catalog listing refused'));
    return Promise.resolve([...this.repos.keys()]);
  }

  listImages(repository: string, _signal?: AbortSignal, known?: KnownImages): Promise<ImageRecord[]> {
    this.knownSeen.set(repository, known);
    if (this.failing.has(repository))
      return Promise.reject(new Error(`HTTP 500 listing tags of ${repository}`));
    const byDigest = new Map<string, string[]>();
    for (const [tag, digest] of this.repos.get(repository) ?? []) {
      byDigest.set(digest, [...(byDigest.get(digest) ?? []), tag]);
    }
    return Promise.resolve(
      [...byDigest].map(([digest, tags]) => ({ digest, tags: tags.sort(), ...this.details.get(digest) })),
    );
  }
}

/** A readable fake digest: sha256: followed by the name padded to 64 hex-like characters. */
export function digest(name: string): string {
  return `sha256:${Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64)}`;
}

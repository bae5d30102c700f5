import { instantOf, type Instant, type Span } from '../../src/catalog/events/instant.js';
import type { RegistryEvent } from '../../src/catalog/events/model.js';
import type { ImageDetails } from '../../src/catalog/events/plan-events.js';
import type { RegistryProbe } from '../../src/catalog/events/probe.js';
import type { ImageRecord, KnownImages, RegistrySource } from '../../src/catalog/source.js';

/**
 * An in-memory registry: repositories of tags pointing at digests. Behaves like a real source
 * (one record per digest with all its tags, sorted), and records which repositories were listed.
 * It keeps its own clock (`clock`, milliseconds; `tick()` advances it) that stamps the events its
 * changes announce (`push`, `deleteImage`, `removeTag`) and that it reports as its time; lookups
 * made to settle events are counted in `lookups`.
 */
export class FakeRegistry implements RegistrySource, RegistryProbe {
  readonly detailsScope = 'registry';
  clock = Date.UTC(2026, 0, 1);
  lookups = 0;
  private eventCounter = 0;
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

  /** The registry's clock now, as an instant. */
  now(): Instant {
    return instantOf(new Date(this.clock));
  }

  /** Advances the clock by `ms` (default one second) and returns the new instant. */
  tick(ms = 1000): Instant {
    this.clock += ms;
    return this.now();
  }

  /** Points a tag at a digest, one tick later, and returns the event the registry would send. */
  push(repository: string, tag: string, digest: string): RegistryEvent {
    this.tag(repository, tag, digest);
    return this.event({ repository, action: 'push', tag, digest });
  }

  /** Deletes an image (every tag on it goes), one tick later, and returns its event. */
  deleteImage(repository: string, digest: string): RegistryEvent {
    for (const [tag, target] of this.repos.get(repository) ?? [])
      if (target === digest) this.untag(repository, tag);
    return this.event({ repository, action: 'delete', digest });
  }

  /** Removes one tag, one tick later, and returns its event. */
  removeTag(repository: string, tag: string): RegistryEvent {
    this.untag(repository, tag);
    return this.event({ repository, action: 'delete', tag });
  }

  private event(e: Pick<RegistryEvent, 'repository' | 'action' | 'tag' | 'digest'>): RegistryEvent {
    return { id: `e${++this.eventCounter}`, registry: this.registry, at: this.tick(), ...e };
  }

  registryTime(): Promise<Span> {
    this.lookups += 1;
    return Promise.resolve({ lo: this.now(), hi: this.now() });
  }

  resolveTag(repository: string, tag: string): Promise<string | undefined> {
    this.lookups += 1;
    return Promise.resolve(this.repos.get(repository)?.get(tag));
  }

  imageExists(repository: string, digest: string): Promise<boolean> {
    this.lookups += 1;
    return Promise.resolve([...(this.repos.get(repository)?.values() ?? [])].includes(digest));
  }

  describeImage(repository: string, digest: string): Promise<ImageDetails | undefined> {
    this.lookups += 1;
    const exists = [...(this.repos.get(repository)?.values() ?? [])].includes(digest);
    return Promise.resolve(exists ? (this.details.get(digest) ?? {}) : undefined);
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

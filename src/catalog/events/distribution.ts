/**
 * Notifications of a distribution registry (Debian's `docker-registry`, CNCF Distribution): the
 * envelope `{"events": [...]}` it POSTs to each `notifications.endpoints` URL. Observed on
 * docker-registry 2.8 (media type application/vnd.docker.distribution.events.v1+json):
 *
 * - a manifest PUT by digest: `push`, target {mediaType, digest, size, repository, url}, no tag;
 * - a manifest PUT by tag: the same with `tag` (a moved tag is a push of the tag onto a new digest);
 * - a manifest DELETE (by digest): `delete`, target {digest, repository}, then one `delete` per
 *   tag that pointed at it, target {repository, tag} without a digest;
 * - blob pushes (media type application/octet-stream, url …/blobs/…), pulls and mounts.
 *
 * Each event is checked on its own: one the catalog cannot use is counted (ignored or rejected)
 * and the rest of the envelope still counts.
 */
import { z } from 'zod';
import { isDigest, isRepositoryName, isTag } from '../references.js';
import { parseInstant } from './instant.js';
import { RejectReason, type ParsedEvents, type RegistryEvent, type Rejection } from './model.js';

const envelopeSchema = z.looseObject({ events: z.array(z.unknown()) });

const eventSchema = z.looseObject({
  id: z.string().min(1).max(200),
  timestamp: z.string(),
  action: z.string(),
  target: z.looseObject({
    mediaType: z.string().optional(),
    digest: z.string().optional(),
    repository: z.string(),
    url: z.string().optional(),
    tag: z.string().optional(),
  }),
});

/** A body that is not an envelope at all: the listener answers 400. */
export class MalformedEnvelopeError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'MalformedEnvelopeError';
  }
}

/** Parses a notification body for the registry the catalog knows as `registry`. */
export function parseNotification(body: string, registry: string): ParsedEvents {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedEnvelopeError('the body is not JSON');
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) throw new MalformedEnvelopeError('the body has no "events" list');
  const events: RegistryEvent[] = [];
  const rejected: Rejection[] = [];
  let ignored = 0;
  for (const raw of envelope.data.events) {
    const parsed = parseOne(raw, registry);
    if (parsed === 'ignored') ignored += 1;
    else if ('reason' in parsed) rejected.push(parsed);
    else events.push(parsed);
  }
  return { events, ignored, rejected };
}

function malformed(detail: string): Rejection {
  return { reason: RejectReason.Malformed, detail };
}

function parseOne(raw: unknown, registry: string): RegistryEvent | Rejection | 'ignored' {
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return malformed(`notification event: ${issue?.path.join('.') || '(event)'}: ${issue?.message ?? ''}`);
  }
  const e = parsed.data;
  const { target } = e;
  if (e.action !== 'push' && e.action !== 'delete') return 'ignored'; // pull, mount
  // Blobs: their URL names /blobs/; a delete carries no URL, and a blob delete matches no image.
  if (target.url !== undefined && !/\/manifests\/[^/]+$/.test(target.url)) return 'ignored';
  if (e.action === 'push' && target.tag === undefined) return 'ignored'; // by digest: no tag moved
  const at = parseInstant(e.timestamp);
  if (!at) return malformed(`notification event ${e.id}: timestamp is not RFC 3339`);
  if (!isRepositoryName(target.repository)) {
    return malformed(`notification event ${e.id}: repository name is not valid`);
  }
  if (target.tag !== undefined && !isTag(target.tag)) {
    return malformed(`notification event ${e.id}: tag is not valid`);
  }
  if (target.digest !== undefined && !isDigest(target.digest)) {
    return malformed(`notification event ${e.id}: digest is not a sha256 digest`);
  }
  const common = { id: e.id, registry, repository: target.repository, at };
  if (e.action === 'push') {
    if (target.digest === undefined) return malformed(`notification event ${e.id}: push without a digest`);
    return { ...common, action: 'push', digest: target.digest, tag: target.tag };
  }
  if (target.tag !== undefined) return { ...common, action: 'delete', tag: target.tag };
  if (target.digest !== undefined) return { ...common, action: 'delete', digest: target.digest };
  return malformed(`notification event ${e.id}: delete names neither a digest nor a tag`);
}

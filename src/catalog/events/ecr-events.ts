/**
 * ECR's "ECR Image Action" EventBridge events, as the member rules forward them to the central bus
 * and the bus's rule puts them on the catalog queue (the SQS message body is the event):
 *
 * { "id", "detail-type": "ECR Image Action", "source": "aws.ecr", "account", "region", "time",
 *   "detail": { "result": "SUCCESS" | "FAILURE", "action-type": "PUSH" | "DELETE",
 *               "repository-name", "image-digest", "image-tag"? , "manifest-media-type"? } }
 *
 * A push names the tag it was pushed with (none for a push by digest); a delete by tag names the
 * tag (ECR deletes the image with its last tag), a delete by digest names none. `time` has seconds
 * only. Account and region are returned for the caller's scope check: they come from another account.
 */
import { z } from 'zod';
import { isDigest, isRepositoryName, isTag } from '../references.js';
import { parseInstant } from './instant.js';
import { RejectReason, type RegistryEvent, type Rejection } from './model.js';

export const ECR_IMAGE_ACTION = 'ECR Image Action';

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

const eventSchema = z.looseObject({
  id: z.string().min(1).max(200),
  'detail-type': z.literal(ECR_IMAGE_ACTION),
  source: z.literal('aws.ecr'),
  account: z.string().regex(ACCOUNT, { message: 'expected a 12-digit account ID' }),
  region: z.string().regex(REGION, { message: 'expected an AWS region' }),
  time: z.string(),
  detail: z.looseObject({
    result: z.string(),
    'action-type': z.string(),
    'repository-name': z.string(),
    'image-digest': z.string().optional(),
    'image-tag': z.string().optional(),
  }),
});

export type ParsedEcrEvent =
  | {
      readonly kind: 'event';
      readonly event: RegistryEvent;
      readonly account: string;
      readonly region: string;
    }
  | { readonly kind: 'ignored'; readonly account: string; readonly region: string }
  | { readonly kind: 'rejected'; readonly rejection: Rejection };

/** The catalog's id of an account's ECR registry in a region (the same a scan of `ecr://…` records). */
export function ecrRegistryId(account: string, region: string): string {
  return `ecr://${account}/${region}`;
}

/** Parses one EventBridge event (a queue message body). */
export function parseEcrEvent(body: string): ParsedEcrEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return rejected('the message body is not JSON');
  }
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return rejected(
      `not an ECR Image Action event: ${issue?.path.join('.') || '(event)'}: ${issue?.message ?? ''}`,
    );
  }
  const e = parsed.data;
  const d = e.detail;
  const where = { account: e.account, region: e.region };
  const action = d['action-type'];
  if (d.result !== 'SUCCESS' || (action !== 'PUSH' && action !== 'DELETE'))
    return { kind: 'ignored', ...where };
  const tag = d['image-tag'] === '' ? undefined : d['image-tag'];
  if (action === 'PUSH' && tag === undefined) return { kind: 'ignored', ...where };
  const at = parseInstant(e.time);
  if (!at) return rejected(`ECR event ${e.id}: time is not RFC 3339`);
  const repository = d['repository-name'];
  const digest = d['image-digest'];
  if (!isRepositoryName(repository)) return rejected(`ECR event ${e.id}: repository name is not valid`);
  if (tag !== undefined && !isTag(tag)) return rejected(`ECR event ${e.id}: tag is not valid`);
  if (digest !== undefined && !isDigest(digest))
    return rejected(`ECR event ${e.id}: image digest is not valid`);
  const common = { id: e.id, registry: ecrRegistryId(e.account, e.region), repository, at };
  if (action === 'PUSH') {
    if (digest === undefined) return rejected(`ECR event ${e.id}: push without an image digest`);
    return { kind: 'event', event: { ...common, action: 'push', digest, tag }, ...where };
  }
  if (tag !== undefined) {
    const event: RegistryEvent = digest
      ? { ...common, action: 'delete', tag, digest, checkImage: true }
      : { ...common, action: 'delete', tag };
    return { kind: 'event', event, ...where };
  }
  if (digest === undefined) return rejected(`ECR event ${e.id}: delete names neither a digest nor a tag`);
  return { kind: 'event', event: { ...common, action: 'delete', digest }, ...where };
}

function rejected(detail: string): ParsedEcrEvent {
  return { kind: 'rejected', rejection: { reason: RejectReason.Malformed, detail } };
}

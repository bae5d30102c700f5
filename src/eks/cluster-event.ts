/**
 * The CloudTrail management events the member rules forward (EventBridge "AWS API Call via
 * CloudTrail", source aws.eks): CreateCluster and CreateFargateProfile. Validated with zod; anything
 * else is answered with the reason it was not understood, never an exception (a throw would make
 * EventBridge retry a message that can never succeed).
 */
import { z } from 'zod';

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

const base = {
  'detail-type': z.literal('AWS API Call via CloudTrail'),
  source: z.literal('aws.eks'),
  account: z.string().regex(ACCOUNT, { message: 'expected a 12-digit account ID' }),
  region: z.string().regex(REGION, { message: 'expected an AWS region' }),
  id: z.string().optional(),
};

const detailBase = {
  eventSource: z.literal('eks.amazonaws.com'),
  awsRegion: z.string().regex(REGION).optional(),
  recipientAccountId: z.string().regex(ACCOUNT).optional(),
  /** Present when the API call failed: nothing was created. */
  errorCode: z.string().optional(),
  eventID: z.string().optional(),
};

const createCluster = z.looseObject({
  ...base,
  detail: z.looseObject({
    ...detailBase,
    eventName: z.literal('CreateCluster'),
    requestParameters: z.looseObject({ name: z.string().min(1).max(100) }),
  }),
});

const createFargateProfile = z.looseObject({
  ...base,
  detail: z.looseObject({
    ...detailBase,
    eventName: z.literal('CreateFargateProfile'),
    requestParameters: z.looseObject({
      clusterName: z.string().min(1).max(100),
      fargateProfileName: z.string().min(1).optional(),
    }),
  }),
});

const eventSchema = z.union([createCluster, createFargateProfile]);

export interface ClusterEvent {
  readonly kind: 'CreateCluster' | 'CreateFargateProfile';
  readonly accountId: string;
  readonly region: string;
  readonly cluster: string;
  readonly fargateProfile?: string;
  readonly eventId?: string;
  /** Set when the API call itself failed (then nothing is to be done). */
  readonly errorCode?: string;
}

export type ParsedEvent =
  { readonly ok: true; readonly event: ClusterEvent } | { readonly ok: false; readonly reason: string };

export function parseClusterEvent(raw: unknown): ParsedEvent {
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`)
      .join('; ');
    return {
      ok: false,
      reason: `not a CreateCluster or CreateFargateProfile CloudTrail event (${problems})`,
    };
  }
  const e = parsed.data;
  // The event's own account and region are where the call happened; CloudTrail's copies must agree.
  const accountId = e.detail.recipientAccountId ?? e.account;
  const region = e.detail.awsRegion ?? e.region;
  if (accountId !== e.account || region !== e.region) {
    return {
      ok: false,
      reason: `event account/region ${e.account}/${e.region} disagree with CloudTrail's ${accountId}/${region}`,
    };
  }
  const common = {
    accountId,
    region,
    ...(e.id ? { eventId: e.id } : {}),
    ...(e.detail.errorCode ? { errorCode: e.detail.errorCode } : {}),
  };
  if (e.detail.eventName === 'CreateCluster') {
    return {
      ok: true,
      event: { kind: 'CreateCluster', cluster: e.detail.requestParameters.name, ...common },
    };
  }
  const params = e.detail.requestParameters;
  return {
    ok: true,
    event: {
      kind: 'CreateFargateProfile',
      cluster: params.clusterName,
      ...(params.fargateProfileName ? { fargateProfile: params.fargateProfileName } : {}),
      ...common,
    },
  };
}

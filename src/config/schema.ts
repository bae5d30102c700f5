import { z } from 'zod';
import { FEATURE_SCOPES, type FalconClientFeature } from './falcon-scopes.js';
import { FALCON_CLOUD_NAMES } from './clouds.js';
import { coverageSchema } from './coverage-schema.js';
import { eksDeployerSchema } from './eks-deployer-schema.js';
import { eksRolloutSchema } from './eks-rollout-schema.js';
import { ALL_REGIONS } from './partitions.js';
import {
  ACCOUNT_ID,
  CID_WITH_CHECKSUM,
  IAM_POLICY_ARN,
  IAM_POLICY_NAME,
  ORG_ID,
  OU_ID,
  RESOURCE_PREFIX,
  ROOT_ID,
  SECRET_ARN,
} from './patterns.js';
import { ssmSchemaWithoutRegions } from './ssm-schema.js';
import { pattern, schedule } from './zod-rules.js';

/*
 * The deployment's settings. Every message is written as "expected …": the loader prefixes the
 * path and appends what was given, so each problem names where, what was wanted and what was found.
 */

const region = z.string().refine((r) => ALL_REGIONS.includes(r), {
  message: 'expected a known AWS region such as "us-east-1" or "us-gov-west-1"',
});

const regionList = z
  .array(region)
  .refine((list) => new Set(list).size === list.length, { message: 'expected each region once' });

/** A region list that may not be empty: leaving the setting out is how the home region is chosen. */
const homeDefaultedRegions = regionList.refine((list) => list.length > 0, {
  message: 'expected at least one region; remove the setting to use the home region (aws.homeRegion)',
});

/**
 * Where one Falcon API client comes from: environment variables at deploy time (stored by the stack), or
 * an existing Secrets Manager secret with keys ClientId and ClientSecret. The shape of
 * `falcon.credentials` and of each `falcon.clients.<feature>`; kept separate so a later mapping of OUs
 * to Falcon tenants (CIDs) can reuse it per tenant without changing what is valid today.
 */
const falconClientSettingSchema = z
  .strictObject({
    source: z.enum(['environment', 'secretsManager'], {
      message: 'expected "environment" or "secretsManager"',
    }),
    secretArn: pattern(SECRET_ARN, 'a Secrets Manager secret ARN').optional(),
  })
  .superRefine((c, ctx) => {
    if (c.source === 'secretsManager' && c.secretArn === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['secretArn'],
        input: undefined,
        message:
          'expected the ARN of the existing secret (keys ClientId, ClientSecret) when source is "secretsManager"',
      });
    }
  });

/** `falcon.clients.<feature>`: optional; without it the feature uses `falcon.credentials`. */
const featureClient = (feature: FalconClientFeature) =>
  falconClientSettingSchema
    .optional()
    .describe(
      `The ${feature} client (scopes ${FEATURE_SCOPES[feature].join(', ')}); default: falcon.credentials`,
    );

const falconSchema = z
  .strictObject({
    cloud: z
      .enum(FALCON_CLOUD_NAMES, { message: `expected one of ${FALCON_CLOUD_NAMES.join(', ')}` })
      .describe('Falcon cloud the CID lives in'),
    baseUrl: z
      .url({
        protocol: /^https?$/,
        message: 'expected an http(s) URL such as "https://falcon-proxy.example"',
      })
      .optional()
      .describe('Explicit API base URL (proxies, emulators); overrides the cloud table'),
    cid: pattern(CID_WITH_CHECKSUM, 'a CID with checksum: 32 hex digits, "-", 2 hex digits').optional(),
    credentials: falconClientSettingSchema
      .prefault({ source: 'environment' })
      .describe('The shared API client: every feature without a client of its own uses it'),
    clients: z
      .strictObject({
        ssmDistributor: featureClient('ssmDistributor'),
        eksProtection: featureClient('eksProtection'),
        ecrConnections: featureClient('ecrConnections'),
        coverage: featureClient('coverage'),
      })
      .default({})
      .describe("Each feature's own API client, with only the scopes it needs"),
  })
  .describe('The Falcon tenant');

const awsSchema = z.strictObject({
  partition: z.enum(['aws', 'aws-us-gov'], {
    message: 'expected "aws" (commercial) or "aws-us-gov" (GovCloud)',
  }),
  homeRegion: region,
  accountType: z
    .enum(['management', 'delegatedAdmin'], { message: 'expected "management" or "delegatedAdmin"' })
    .default('management'),
});

const organizationSchema = z.strictObject({
  id: pattern(ORG_ID, 'the organization ID: "o-" and 10-32 lowercase letters or digits').describe(
    'Used in aws:PrincipalOrgID conditions (artifact bucket, EKS event bus)',
  ),
  targets: z
    .array(
      z.string().refine((t) => ROOT_ID.test(t) || OU_ID.test(t), {
        message:
          'expected the root ID ("r-" and 4-32 lowercase letters or digits) or an OU ID ("ou-xxxx-xxxxxxxx")',
      }),
    )
    .min(1, { message: 'expected at least one root or OU ID' })
    .refine((t) => !(t.some((x) => ROOT_ID.test(x)) && t.length > 1), {
      message: 'expected either the root alone or a list of OUs, not both',
    }),
  excludeAccounts: z.array(pattern(ACCOUNT_ID, 'a 12-digit account ID')).default([]),
});

const stackSetsSchema = z
  .strictObject({
    maxConcurrentPercentage: z.number().int().min(1).max(100).default(25),
    // Accounts per region (rounded down) an operation may fail in before CloudFormation stops it and
    // fails the StackSet, which rolls the root stack back: 0 let one account undo the organization.
    failureTolerancePercentage: z.number().int().min(0).max(100).default(20),
    regionConcurrency: z
      .enum(['PARALLEL', 'SEQUENTIAL'], { message: 'expected "PARALLEL" or "SEQUENTIAL"' })
      .default('PARALLEL'),
    // SOFT: run at maxConcurrentPercentage whatever the tolerance (STRICT caps concurrency at tolerance + 1).
    concurrencyMode: z
      .enum(['SOFT_FAILURE_TOLERANCE', 'STRICT_FAILURE_TOLERANCE'], {
        message: 'expected "SOFT_FAILURE_TOLERANCE" or "STRICT_FAILURE_TOLERANCE"',
      })
      .default('SOFT_FAILURE_TOLERANCE'),
  })
  .prefault({});

const ssmSchema = ssmSchemaWithoutRegions.extend({
  regions: homeDefaultedRegions.optional().describe('Regions to deploy to; default: the home region'),
});

const wholeNumber = (min: number, max: number, hint = '') =>
  z
    .number({ message: `expected a whole number from ${min} to ${max}` })
    .int({ message: `expected a whole number from ${min} to ${max}` })
    .min(min, { message: `expected a whole number from ${min} to ${max}` })
    .max(max, { message: `expected a whole number from ${min} to ${max}${hint}` });

const eksSchema = z.strictObject({
  enabled: z.boolean().default(false),
  regions: homeDefaultedRegions
    .optional()
    .describe(
      'Regions whose new clusters are caught (one forwarding rule per account and region) and discovered; default: the home region',
    ),
  discoverEnabledRegions: z
    .boolean()
    .default(false)
    .describe('Discovery also sweeps every region enabled in each account, not only `regions`'),
  schedule: schedule({ minimumMinutes: 60, allowSecondsField: false })
    .default('rate(1 day)')
    .describe('When discovery runs again (EventBridge rate or cron, at least 60 minutes apart)'),
  concurrency: wholeNumber(1, 500, '; lower it if member accounts are throttled')
    .default(50)
    .describe('Account-region pairs one discovery invocation works on at once'),
  lockTtlMinutes: wholeNumber(45, 1440)
    .default(120)
    .describe('How long a cluster stays locked for one deployer run; a crashed run frees it after this'),
  minKubernetesVersion: z
    .string()
    .regex(/^1\.\d{1,2}$/, { message: 'expected a Kubernetes minor version such as "1.28"' })
    .optional()
    .describe(
      'Oldest Kubernetes version a deployer run is started for; older clusters are reported (default: 1.28)',
    ),
  createOrganizationTrail: z
    .boolean()
    .default(false)
    .describe(
      'Create an organization trail logging management events (EventBridge only sees CreateCluster where one exists)',
    ),
  sensor: z.enum(['kernel', 'bpf'], { message: 'expected "kernel" or "bpf"' }).default('bpf'),
  admissionController: z.boolean().default(true),
  deployer: eksDeployerSchema.prefault({}),
  rollout: eksRolloutSchema.prefault({}),
});

const ecrSchema = z.strictObject({
  enabled: z.boolean().default(false),
  regions: regionList
    .optional()
    .describe('Regions to connect; default: every region enabled for the account'),
  disconnectOnDelete: z.boolean().default(false),
  reserveConcurrency: z
    .boolean()
    .default(false)
    .describe(
      'Reserve one concurrent execution for ecr-connect; off by default because accounts whose Lambda concurrency quota is 10 refuse any reservation (overlapping runs serialise on a lease parameter instead)',
    ),
  schedule: schedule({ minimumMinutes: 60, allowSecondsField: false }).default('rate(1 day)'),
});

const catalogSchema = z.strictObject({
  ecrEvents: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          "Member rules forward ECR image pushes and deletes to EKS Protection's central bus; a queue in the home account collects them for `catalog follow`",
        ),
      regions: homeDefaultedRegions
        .optional()
        .describe(
          'Regions whose ECR image actions are forwarded (one rule per account and region); default: features.ecrConnections.regions, else the home region',
        ),
      retentionDays: wholeNumber(1, 14)
        .default(4)
        .describe('Days an event waits on the queue for a follower'),
      maxReceiveCount: wholeNumber(1, 100)
        .default(5)
        .describe('Deliveries of one event before it goes to the dead-letter queue'),
    })
    .prefault({}),
});

export const configSchema = z.strictObject({
  resourcePrefix: pattern(RESOURCE_PREFIX, 'a letter then up to 23 letters, digits or dashes').default(
    'falcon-org',
  ),
  falcon: falconSchema,
  aws: awsSchema,
  organization: organizationSchema,
  permissionsBoundary: z
    .string()
    .refine((b) => IAM_POLICY_ARN.test(b) || IAM_POLICY_NAME.test(b), {
      message: 'expected an IAM policy ARN or a policy name',
    })
    .optional(),
  tags: z
    .record(
      z
        .string()
        .min(1)
        .max(128)
        .refine((k) => !k.toLowerCase().startsWith('aws:'), {
          message: 'expected a tag key not starting with "aws:"',
        }),
      z.string().max(256),
    )
    .default({}),
  stackSets: stackSetsSchema,
  features: z
    .strictObject({
      ssmDistributor: ssmSchema.prefault({}),
      eksProtection: eksSchema.prefault({}),
      ecrConnections: ecrSchema.prefault({}),
    })
    .prefault({}),
  coverage: coverageSchema.prefault({}),
  catalog: catalogSchema.prefault({}),
  alarms: z
    .strictObject({
      topicArn: z
        .string()
        .regex(/^arn:(aws|aws-us-gov):sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/, {
          message: 'expected an SNS topic ARN such as "arn:aws:sns:us-east-1:111122223333:falcon-org-alarms"',
        })
        .optional()
        .describe(
          'SNS topic the dead-letter queue alarms notify (home region); none: the alarms only change state',
        ),
    })
    .prefault({})
    .describe('CloudWatch alarms of the home account'),
});

/** The configuration as written in the file, before defaults are applied. */
export type ConfigInput = z.input<typeof configSchema>;
/** The configuration after validation, with every default filled in. */
export type ParsedConfig = z.output<typeof configSchema>;
export type SsmDistributorConfig = ParsedConfig['features']['ssmDistributor'];
export type EksProtectionConfig = ParsedConfig['features']['eksProtection'];
export type EcrConnectionsConfig = ParsedConfig['features']['ecrConnections'];
export type SsmTargets = SsmDistributorConfig['targets'];
export type CatalogConfig = ParsedConfig['catalog'];

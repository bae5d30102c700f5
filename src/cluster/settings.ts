import { z } from 'zod';
import { FALCON_CLOUD_NAMES } from '../config/clouds.js';
import { FALCON_CONTAINER_INJECTION_LABEL, type EksDeployerConfig } from '../config/eks-deployer-schema.js';
import type { ResolvedConfig } from '../config/load.js';
import type { FalconCloud } from '../config/clouds.js';
import { DeployerSettingsError } from './errors.js';

/*
 * The non-secret settings every deployer run gets, as JSON in PROJECT_ENV.settings
 * (src/eks/run-contract.ts). The infrastructure builds them with `deployerRunSettings` and
 * serialises them with JSON.stringify; the deployer parses them with `parseDeployerRunSettings`.
 */

const positiveSeconds = z.number().int().positive();

export const deployerRunSettingsSchema = z.strictObject({
  /** AWS partition of the organization ("aws", "aws-us-gov", "aws-cn"). */
  partition: z.string().min(1),
  homeAccountId: z.string().regex(/^\d{12}$/),
  homeRegion: z.string().min(1),
  falcon: z.strictObject({
    /** Falcon cloud of the CID; also `cloud_region` in every custom resource (never autodiscover). */
    cloud: z.enum(FALCON_CLOUD_NAMES),
    /** Explicit API base URL (proxies, emulators); overrides the cloud table. */
    baseUrl: z.url().optional(),
    /** CID with checksum; when absent it is read from the Falcon API (CCID). */
    cid: z.string().optional(),
  }),
  operator: z.strictObject({
    version: z.string().min(1),
    manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** Where `deploy` put the checked manifest in the artifact bucket. */
    manifestBucket: z.string().min(3),
    manifestKey: z.string().min(1),
  }),
  nodeSensor: z.strictObject({ backend: z.enum(['kernel', 'bpf']) }),
  admission: z.strictObject({
    enabled: z.boolean(),
    failurePolicy: z.enum(['Ignore', 'Fail']),
    replicas: z.number().int().min(1),
  }),
  fargateInjectionLabel: z.literal(FALCON_CONTAINER_INJECTION_LABEL),
  keepAccessEntry: z.boolean(),
  allowListEgress: z.boolean(),
  egressCidrs: z.array(z.string()),
  mirrorImages: z.strictObject({
    enabled: z.boolean(),
    repositoryPrefix: z.string().min(1),
    /** Sensor image tags to mirror and use, per image ("falcon-sensor", "falcon-container", "falcon-kac"). */
    tags: z.record(z.string(), z.string()).default({}),
    /**
     * The organization whose principals may pull the mirrored images (nodes of member accounts pull
     * from the home account's ECR); without it the repositories get no policy and only the home
     * account can pull.
     */
    pullOrganizationId: z.string().optional(),
  }),
  /**
   * What else belongs to a cluster's desired state (src/cluster/desired-state.ts) without being
   * applied as such: the rollout generation (`features.eksProtection.rollout.generation`; raising it
   * rebuilds every cluster once) and the version of the clusters' Falcon client secret when `deploy`
   * pins one (a rotated secret reaches every cluster). Absent: generation 0, no pinned version.
   */
  rollout: z
    .strictObject({
      generation: z.number().int().min(0),
      credentialsVersion: z.string().min(1).optional(),
    })
    .optional(),
  deadlines: z.strictObject({
    clusterActiveSeconds: positiveSeconds,
    accessPropagationSeconds: positiveSeconds,
    crdEstablishedSeconds: positiveSeconds,
    operatorAvailableSeconds: positiveSeconds,
    sensorsReadySeconds: positiveSeconds,
    uninstallSeconds: positiveSeconds,
  }),
});

export type DeployerRunSettings = z.output<typeof deployerRunSettingsSchema>;

/** Parses PROJECT_ENV.settings; the error names the first bad field. */
export function parseDeployerRunSettings(
  json: string | undefined,
  source = 'deployer settings',
): DeployerRunSettings {
  if (json === undefined || json.trim() === '') {
    throw new DeployerSettingsError(
      `${source}: missing; the CodeBuild project sets it from the configuration`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new DeployerSettingsError(`${source}: not JSON`, { cause: error });
  }
  const parsed = deployerRunSettingsSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new DeployerSettingsError(`${source}: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** What the infrastructure knows besides the deployer's own configuration block. */
export interface DeployerRunSettingsInput {
  readonly partition: string;
  readonly homeAccountId: string;
  readonly homeRegion: string;
  readonly falcon: { readonly cloud: FalconCloud; readonly baseUrl?: string; readonly cid?: string };
  readonly sensor: 'kernel' | 'bpf';
  readonly admissionController: boolean;
  readonly deployer: EksDeployerConfig;
  readonly manifestBucket: string;
  readonly manifestKey: string;
  /** Organization ID: member accounts of it may pull mirrored images. */
  readonly organizationId?: string;
  /** `features.eksProtection.rollout.generation`. @default 0 */
  readonly rolloutGeneration?: number;
  /** The version ID of the clusters' Falcon client secret `deploy` pins (Secrets Manager source). */
  readonly credentialsVersion?: string;
}

/** Builds the settings from the validated configuration (for the infrastructure to serialise). */
export function deployerRunSettings(input: DeployerRunSettingsInput): DeployerRunSettings {
  const d = input.deployer;
  return {
    partition: input.partition,
    homeAccountId: input.homeAccountId,
    homeRegion: input.homeRegion,
    falcon: {
      cloud: input.falcon.cloud,
      ...(input.falcon.baseUrl !== undefined ? { baseUrl: input.falcon.baseUrl } : {}),
      ...(input.falcon.cid !== undefined ? { cid: input.falcon.cid } : {}),
    },
    operator: {
      version: d.operator.version,
      manifestSha256: d.operator.manifestSha256,
      manifestBucket: input.manifestBucket,
      manifestKey: input.manifestKey,
    },
    nodeSensor: { backend: input.sensor },
    admission: {
      enabled: input.admissionController,
      failurePolicy: d.admission.failurePolicy,
      replicas: d.admission.replicas,
    },
    fargateInjectionLabel: d.fargateInjectionLabel,
    keepAccessEntry: d.keepAccessEntry,
    allowListEgress: d.allowListEgress,
    egressCidrs: [...d.egressCidrs],
    mirrorImages: {
      enabled: d.mirrorImages.enabled,
      repositoryPrefix: d.mirrorImages.repositoryPrefix,
      tags: Object.fromEntries(
        Object.entries(d.mirrorImages.tags).filter((e): e is [string, string] => e[1] !== undefined),
      ),
      ...(input.organizationId !== undefined ? { pullOrganizationId: input.organizationId } : {}),
    },
    rollout: {
      generation: input.rolloutGeneration ?? 0,
      ...(input.credentialsVersion !== undefined ? { credentialsVersion: input.credentialsVersion } : {}),
    },
    deadlines: { ...d.deadlines },
  };
}

/** The settings of the configuration's EKS Protection (the infrastructure and the CLI alike). */
export function deployerRunSettingsFromConfig(
  config: ResolvedConfig,
  where: Pick<
    DeployerRunSettingsInput,
    'homeAccountId' | 'manifestBucket' | 'manifestKey' | 'credentialsVersion'
  >,
): DeployerRunSettings {
  const eks = config.features.eksProtection;
  return deployerRunSettings({
    partition: config.aws.partition,
    homeRegion: config.aws.homeRegion,
    falcon: {
      cloud: config.falcon.cloud,
      ...(config.falcon.baseUrl !== undefined ? { baseUrl: config.falcon.baseUrl } : {}),
      ...(config.falcon.cid !== undefined ? { cid: config.falcon.cid } : {}),
    },
    sensor: eks.sensor,
    admissionController: eks.admissionController,
    deployer: eks.deployer,
    organizationId: config.organization.id,
    rolloutGeneration: eks.rollout.generation,
    ...where,
  });
}

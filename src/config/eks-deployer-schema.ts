import { z } from 'zod';

/*
 * Settings of the EKS deployer (the program a CodeBuild run executes against one cluster).
 * Kept in a file of its own so the deployer's settings can grow without touching the rest of the
 * schema; wired in as `features.eksProtection.deployer`. Messages follow the schema's "expected …"
 * convention (the loader prefixes the path and appends what was given).
 */

/**
 * The pinned Falcon Operator release used when the configuration names none. Facts from
 * /work/shared/reference/falcon-operator.md: the repository's own copy of the install manifest at
 * tag v1.13.0 (`deploy/falcon-operator.yaml`) was checked at 610,018 bytes with this SHA-256. The
 * release asset of the same tag was not checked, so the default URL is the checked copy.
 */
/**
 * The namespace label the Falcon operator's sidecar injector selects on when default namespace
 * injection is off (FalconContainer `injector.disableDefaultNamespaceInjection`). The key is fixed
 * in the operator; the CRD has no field to change it.
 */
export const FALCON_CONTAINER_INJECTION_LABEL = 'sensor.falcon-system.crowdstrike.com/injection';

export const DEFAULT_OPERATOR = {
  version: 'v1.13.0',
  manifestSha256: 'a395e36417f7975cfc2fe7f2996e0f233dc85acbe73a180d1999697795af5e0d',
  manifestUrl:
    'https://raw.githubusercontent.com/CrowdStrike/falcon-operator/v1.13.0/deploy/falcon-operator.yaml',
} as const;

const SHA256_HEX = /^[0-9a-f]{64}$/;
const OPERATOR_TAG = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;
const IPV4_CIDR = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\/(?:3[0-2]|[12]?\d)$/;

const operatorSchema = z
  .strictObject({
    version: z
      .string()
      .regex(OPERATOR_TAG, { message: 'expected a release tag such as "v1.13.0" (never "latest")' }),
    manifestSha256: z.string().regex(SHA256_HEX, {
      message: 'expected the SHA-256 of the install manifest: 64 lowercase hex digits',
    }),
    manifestUrl: z
      .url({ protocol: /^https$/, message: "expected an https URL of the release's falcon-operator.yaml" })
      .optional()
      .describe('Where `deploy` fetches the manifest once (default: the release asset of `version`)'),
    manifestFile: z
      .string()
      .min(1)
      .optional()
      .describe('A local copy of the manifest `deploy` uploads instead of fetching it'),
  })
  .describe('The pinned Falcon Operator release; version and checksum always go together');

const admissionSchema = z.strictObject({
  failurePolicy: z
    .enum(['Ignore', 'Fail'], { message: 'expected "Ignore" or "Fail"' })
    .default('Ignore')
    .describe('What the API server does when the admission webhook does not answer'),
  replicas: z
    .number()
    .int({ message: 'expected a whole number of replicas' })
    .min(1, { message: 'expected at least 1 replica' })
    .max(10, { message: 'expected at most 10 replicas' })
    .default(2),
});

const mirrorSchema = z.strictObject({
  enabled: z.boolean().default(false).describe('Copy Falcon images into the home account ECR first'),
  repositoryPrefix: z
    .string()
    .regex(/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/, {
      message: 'expected an ECR repository prefix such as "falcon-org/crowdstrike"',
    })
    .default('falcon-org/crowdstrike'),
  tags: z
    .partialRecord(
      z.enum(['falcon-sensor', 'falcon-container', 'falcon-kac'], {
        message: 'expected "falcon-sensor", "falcon-container" or "falcon-kac"',
      }),
      z.string().regex(/^[\w][\w.-]{0,127}$/, { message: 'expected an image tag such as "7.20.0-17306"' }),
    )
    .default({})
    .describe('Sensor image tags to mirror; default: the newest published tag of each image'),
});

const seconds = (min: number, max: number, what: string) =>
  z
    .number()
    .int({ message: `expected ${what} in whole seconds` })
    .min(min, { message: `expected ${what} of at least ${min} seconds` })
    .max(max, { message: `expected ${what} of at most ${max} seconds` });

const deadlinesSchema = z.strictObject({
  clusterActiveSeconds: seconds(60, 3600, 'the wait for the cluster to be ACTIVE').default(1800),
  accessPropagationSeconds: seconds(10, 900, 'the wait for the access entry to work').default(180),
  crdEstablishedSeconds: seconds(10, 900, 'the wait for CRDs to be Established').default(120),
  operatorAvailableSeconds: seconds(30, 1800, 'the wait for the operator to be Available').default(300),
  sensorsReadySeconds: seconds(30, 3600, 'the wait for sensors to be ready').default(900),
  uninstallSeconds: seconds(30, 3600, 'the wait for the operator to remove sensors').default(600),
});

export const eksDeployerSchema = z.strictObject({
  operator: operatorSchema.default({ ...DEFAULT_OPERATOR }),
  admission: admissionSchema.prefault({}),
  keepAccessEntry: z
    .boolean()
    .default(false)
    .describe('Keep the deployer access entry on the cluster after a run (default: removed)'),
  allowListEgress: z
    .boolean()
    .default(false)
    .describe(
      "Add the deployer's egress address to a cluster's public endpoint allow-list for the run (restored afterwards)",
    ),
  egressCidrs: z
    .array(z.string().regex(IPV4_CIDR, { message: 'expected an IPv4 CIDR such as "203.0.113.10/32"' }))
    .default([])
    .describe("The deployer's public egress addresses (NAT); needed to judge or widen allow-lists"),
  mirrorImages: mirrorSchema.prefault({}),
  fargateInjectionLabel: z
    .string()
    .regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'expected a label key' })
    .refine((key) => key === FALCON_CONTAINER_INJECTION_LABEL, {
      message: `expected "${FALCON_CONTAINER_INJECTION_LABEL}": the Falcon operator's injector selects opt-in namespaces by that fixed key and has no setting for another; remove fargateInjectionLabel or set it to that key, and label namespaces with it set to "enabled"`,
    })
    .default(FALCON_CONTAINER_INJECTION_LABEL)
    .describe('On mixed clusters, namespaces with this label set to "enabled" get the Fargate sidecar'),
  deadlines: deadlinesSchema.prefault({}),
});

export type EksDeployerConfig = z.output<typeof eksDeployerSchema>;

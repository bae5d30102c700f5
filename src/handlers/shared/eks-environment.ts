// The EKS functions' environment, read in the handlers' layer: it joins the deployer's settings and
// desired state (src/cluster) with discovery's (src/eks), so it sits above both.
import { z } from 'zod';
import { desiredState } from '../../cluster/desired-state.js';
import { parseDeployerRunSettings, type DeployerRunSettings } from '../../cluster/settings.js';
import type { EksWiringSettings } from '../../eks/aws-deps.js';
import { EksSettingsError } from '../../eks/errors.js';
import {
  EKS_FUNCTION_ENV,
  type ComputeMode,
  type DesiredState,
  type EksFunctionSettings,
} from '../../eks/run-contract.js';
import type { RetryBackoff } from '../../eks/run-decision.js';

const settingsSchema = z.strictObject({
  partition: z.enum(['aws', 'aws-us-gov']),
  homeAccountId: z.string().regex(/^\d{12}$/, { message: 'expected a 12-digit account ID' }),
  homeRegion: z.string().min(1),
  targets: z.array(z.string().regex(/^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/)).min(1),
  excludeAccounts: z.array(z.string().regex(/^\d{12}$/)),
  regions: z.union([z.literal('enabled'), z.array(z.string().min(1)).min(1)]),
  executionRoleName: z.string().min(1),
  concurrency: z.number().int().min(1).max(1000),
  lockTtlSeconds: z.number().int().min(60),
  minKubernetesVersion: z
    .string()
    .regex(/^\d+\.\d+$/)
    .optional(),
  accountsPerMessage: z.number().int().min(1).max(500).optional(),
  retry: z
    .strictObject({ firstMinutes: z.number().int().min(1), maxMinutes: z.number().int().min(1) })
    .optional(),
  concurrentBuilds: z.number().int().min(1).optional(),
});

/** What the EKS functions read from their environment. */
export interface EksEnvironment extends EksWiringSettings {
  /** Absent: the work is never spread (a deployment without the queue). */
  readonly discoveryQueueUrl?: string;
  /**
   * The deployer's settings (`EKS_FUNCTION_ENV.deployerSettings`): the desired state a cluster is
   * compared with. Absent (a deployment from before it): every eligible cluster is built each sweep.
   */
  readonly deployer?: DeployerRunSettings;
  /** Where the coverage function stores its reports (absent: coverage does not report EKS, no repairs). */
  readonly coverageReportBucket?: string;
}

/** Reads and checks the environment; the error names every variable that is missing or wrong. */
export function readEksEnvironment(env: Readonly<Record<string, string | undefined>>): EksEnvironment {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name];
    if (!value) problems.push(`${name} is not set`);
    return value ?? '';
  };
  const rawSettings = required(EKS_FUNCTION_ENV.settings);
  const runsTable = required(EKS_FUNCTION_ENV.runsTable);
  const deployerProject = required(EKS_FUNCTION_ENV.deployerProject);
  let settings: EksFunctionSettings | undefined;
  if (rawSettings) {
    try {
      const parsed = settingsSchema.safeParse(JSON.parse(rawSettings));
      if (parsed.success) settings = parsed.data;
      else {
        for (const issue of parsed.error.issues) {
          problems.push(`${EKS_FUNCTION_ENV.settings}.${issue.path.join('.') || '(top)'}: ${issue.message}`);
        }
      }
    } catch {
      problems.push(`${EKS_FUNCTION_ENV.settings} is not valid JSON`);
    }
  }
  let deployer: DeployerRunSettings | undefined;
  const rawDeployer = env[EKS_FUNCTION_ENV.deployerSettings];
  if (rawDeployer) {
    try {
      deployer = parseDeployerRunSettings(rawDeployer, EKS_FUNCTION_ENV.deployerSettings);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (problems.length > 0 || !settings) {
    throw new EksSettingsError(
      `the EKS function's environment is not usable (${problems.join('; ')}); redeploy with falcon-org deploy so the infrastructure sets it`,
    );
  }
  const queue = env[EKS_FUNCTION_ENV.discoveryQueueUrl];
  const reports = env[EKS_FUNCTION_ENV.coverageReportBucket];
  return {
    settings,
    runsTable,
    deployerProject,
    ...(queue ? { discoveryQueueUrl: queue } : {}),
    ...(reports ? { coverageReportBucket: reports } : {}),
    ...(deployer ? { deployer } : {}),
  };
}

/**
 * What discovery and the event handler compare clusters with: the desired state from the deployer's
 * settings (when the deployment passes them) and the retry backoff (`rollout.retry`).
 */
export function rolloutSettings(env: EksEnvironment): {
  readonly desired?: (compute: ComputeMode) => DesiredState;
  readonly retry?: RetryBackoff;
} {
  const deployer = env.deployer;
  const retry = env.settings.retry;
  return {
    ...(deployer ? { desired: (compute: ComputeMode) => desiredState(deployer, compute) } : {}),
    ...(retry ? { retry: { firstMs: retry.firstMinutes * 60_000, maxMs: retry.maxMinutes * 60_000 } } : {}),
  };
}

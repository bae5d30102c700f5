import { z } from 'zod';
import { EksSettingsError } from './errors.js';
import { EKS_FUNCTION_ENV, type EksFunctionSettings } from './run-contract.js';

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
});

/** What the EKS functions read from their environment. */
export interface EksEnvironment {
  readonly settings: EksFunctionSettings;
  readonly runsTable: string;
  readonly deployerProject: string;
  /** Absent: the work is never spread (a deployment without the queue). */
  readonly discoveryQueueUrl?: string;
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
  if (problems.length > 0 || !settings) {
    throw new EksSettingsError(
      `the EKS function's environment is not usable (${problems.join('; ')}); redeploy with falcon-org deploy so the infrastructure sets it`,
    );
  }
  const queue = env[EKS_FUNCTION_ENV.discoveryQueueUrl];
  return { settings, runsTable, deployerProject, ...(queue ? { discoveryQueueUrl: queue } : {}) };
}

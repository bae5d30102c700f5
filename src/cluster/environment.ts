import {
  COMPUTE_MODES,
  PROJECT_ENV,
  RUN_ENV,
  RUN_MODES,
  type ComputeMode,
  type RunMode,
  type RunRequest,
} from '../eks/run-contract.js';
import { DeployerSettingsError } from './errors.js';
import { parseDeployerRunSettings, type DeployerRunSettings } from './settings.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface DeployerEnvironment {
  readonly request: RunRequest;
  readonly settings: DeployerRunSettings;
  readonly runsTable: string | undefined;
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * Reads one run's environment (RUN_ENV, set per run by discovery/events or the CLI) and the
 * project's (PROJECT_ENV). Every problem is reported at once, each naming its variable.
 */
export function readDeployerEnvironment(env: Env): DeployerEnvironment {
  const problems: string[] = [];
  const need = (name: string, pattern?: RegExp, expected?: string): string => {
    const value = env[name]?.trim() ?? '';
    if (value === '') problems.push(`${name} is not set`);
    else if (pattern && !pattern.test(value))
      problems.push(`${name} is "${value}"; expected ${expected ?? pattern.source}`);
    return value;
  };
  const accountId = need(RUN_ENV.accountId, /^\d{12}$/, 'a 12-digit account ID');
  const region = need(RUN_ENV.region, /^[a-z]{2}(-[a-z]+)+-\d$/, 'a region such as eu-west-1');
  const cluster = need(RUN_ENV.cluster, /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, 'an EKS cluster name');
  const executionRoleArn = need(
    RUN_ENV.executionRoleArn,
    /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/,
    'an IAM role ARN',
  );
  const computeText = env[RUN_ENV.compute]?.trim() || 'nodes';
  if (!COMPUTE_MODES.includes(computeText as ComputeMode)) {
    problems.push(`${RUN_ENV.compute} is "${computeText}"; expected one of ${COMPUTE_MODES.join(', ')}`);
  }
  const modeText = env[RUN_ENV.mode]?.trim() || 'install';
  if (!RUN_MODES.includes(modeText as RunMode)) {
    problems.push(`${RUN_ENV.mode} is "${modeText}"; expected one of ${RUN_MODES.join(', ')}`);
  }
  const clientId = need(PROJECT_ENV.clientId);
  const clientSecret = need(PROJECT_ENV.clientSecret);
  let settings: DeployerRunSettings | undefined;
  try {
    settings = parseDeployerRunSettings(env[PROJECT_ENV.settings], PROJECT_ENV.settings);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  if (problems.length > 0 || settings === undefined) {
    throw new DeployerSettingsError(`deployer environment: ${problems.join('; ')}`);
  }
  const runId = env[RUN_ENV.runId]?.trim() || `manual-${new Date().toISOString()}`;
  return {
    request: {
      accountId,
      region,
      cluster,
      compute: computeText as ComputeMode,
      executionRoleArn,
      runId,
      mode: modeText as RunMode,
    },
    settings,
    runsTable: env[PROJECT_ENV.runsTable]?.trim() || undefined,
    clientId,
    clientSecret,
  };
}

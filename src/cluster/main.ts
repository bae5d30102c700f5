import type { RunOutcome, RunResult } from '../eks/run-contract.js';
import { createDeployerDeps } from './aws-deps.js';
import { readDeployerEnvironment, type Env } from './environment.js';
import { DeployerSettingsError } from './errors.js';
import { runDeployer, type DeployerDeps } from './run.js';
import { describeError } from '../shared/describe-error.js';
import { deployerLog } from './deployer-log.js';

/** Exit code per outcome: CodeBuild marks the build failed on anything but 0. */
export const EXIT_CODES: Readonly<Record<RunOutcome, number>> = {
  protected: 0,
  'already-protected': 0,
  upgraded: 0,
  uninstalled: 0,
  repaired: 0,
  'not-reachable': 3,
  'opted-out': 0,
  failed: 1,
};
/** The run's environment is unusable (nothing was attempted). */
export const EXIT_SETTINGS = 2;

export function exitCodeOf(result: RunResult): number {
  return EXIT_CODES[result.outcome];
}

/**
 * The deployer program: reads the environment CodeBuild gives it, runs once, prints JSON lines
 * (the last one is the run result) and returns the exit code. Never throws.
 */
export async function main(
  env: Env,
  log: (line: string) => void,
  wire: (
    e: ReturnType<typeof readDeployerEnvironment>,
    log: (line: string) => void,
  ) => DeployerDeps = createDeployerDeps,
): Promise<number> {
  let environment: ReturnType<typeof readDeployerEnvironment>;
  try {
    environment = readDeployerEnvironment(env);
  } catch (error) {
    deployerLog(log, Date.now).error('settings-error', { error: describeError(error) });
    return error instanceof DeployerSettingsError ? EXIT_SETTINGS : 1;
  }
  const result = await runDeployer(environment.request, environment.settings, wire(environment, log));
  return exitCodeOf(result);
}

import { printJson, type Output } from '../shared/output.js';
import { createHomeClients } from '../aws/clients.js';
import { SecretsManagerReader } from '../aws/secrets.js';
import { loadConfigFile } from '../config/load.js';
import { UserInputError } from '../config/errors.js';
import { terminalConfirm } from './confirm.js';
import { PreflightError, StackSetFailuresError } from './errors.js';
import { createProgress } from './progress.js';
import { renderLeftovers } from './leftovers.js';
import { parseClusterRef } from '../cluster/uninstall-runs.js';
import type { ClusterRef } from '../eks/runs-table.js';
import {
  failureSummary,
  renderDestroyed,
  renderEksDestroyed,
  renderStackSetReport,
  type CommandResult,
} from './report.js';
import { runDeploy } from './run-deploy.js';
import { runDestroy } from './run-destroy.js';

export interface CommandOptions {
  readonly config: string;
  readonly json?: boolean;
  readonly yes?: boolean;
  /** destroy only: also remove what stack instances leave behind by default. */
  readonly purge?: boolean;
  /** destroy only: do not run EKS uninstalls first. */
  readonly keepClusterSensors?: boolean;
  /** destroy only: leave Falcon on the clusters of these accounts. */
  readonly skipAccount?: readonly string[];
  /** destroy only: leave Falcon on these clusters (ACCOUNT/REGION/NAME or cluster ARN). */
  readonly skipCluster?: readonly string[];
  /** deploy only: a local copy of the pinned Falcon Operator manifest. */
  readonly operatorManifest?: string;
}

/**
 * Wires `deploy` / `destroy` to the real world (config file, AWS SDK clients in the home region,
 * toolkit-lib, the terminal), prints the result (text, or one JSON document with --json) and
 * throws for a non-zero exit: UserInputError → 2, anything else → 1.
 */
export async function runCommand(
  action: 'deploy' | 'destroy',
  opts: CommandOptions,
  output: Output,
): Promise<void> {
  const json = opts.json === true;
  try {
    const config = await loadConfigFile(opts.config);
    // Loaded lazily: aws-cdk-lib and toolkit-lib are heavy, and other commands do not need them.
    const { buildApp } = await import('../infra/app.js');
    const { ToolkitDeployer } = await import('./toolkit-deployer.js');
    const clients = createHomeClients({ region: config.aws.homeRegion });
    const deps = {
      deployer: new ToolkitDeployer(buildApp),
      clients,
      // deploy's pre-flight probes each Falcon API client (destroy needs none).
      falconProbe: { secrets: new SecretsManagerReader(clients.secretsManager) },
      env: process.env,
      progress: createProgress(output),
      ...(opts.yes ? {} : withConfirm()),
    };
    const flags = { yes: opts.yes === true };
    const result =
      action === 'deploy'
        ? await runDeploy(
            config,
            { ...flags, ...(opts.operatorManifest ? { operatorManifest: opts.operatorManifest } : {}) },
            deps,
          )
        : await runDestroy(
            config,
            {
              ...flags,
              purge: opts.purge === true,
              keepClusterSensors: opts.keepClusterSensors === true,
              ...clusterSkips(opts),
            },
            deps,
          );
    print(result, json, output);
    if (!result.ok) throw new StackSetFailuresError(failureMessage(result));
  } catch (error) {
    if (json && !(error instanceof StackSetFailuresError)) {
      printJson(output, errorResult(action, error));
    }
    throw error;
  }
}

/** --skip-account / --skip-cluster, checked: every bad value is named at once (exit 2). */
export function clusterSkips(opts: Pick<CommandOptions, 'skipAccount' | 'skipCluster'>): {
  skipClusterAccounts: string[];
  skipClusters: ClusterRef[];
} {
  const problems: string[] = [];
  const accounts = [...(opts.skipAccount ?? [])];
  for (const a of accounts)
    if (!/^\d{12}$/.test(a)) problems.push(`--skip-account "${a}": expected a 12-digit account ID`);
  const clusters: ClusterRef[] = [];
  for (const text of opts.skipCluster ?? []) {
    const ref = parseClusterRef(text);
    if ('error' in ref) problems.push(`--skip-cluster ${ref.error}`);
    else clusters.push(ref);
  }
  if (problems.length > 0) throw new UserInputError(problems.join('; '));
  return { skipClusterAccounts: accounts, skipClusters: clusters };
}

function withConfirm() {
  const confirm = terminalConfirm();
  return confirm ? { confirm } : {};
}

function print(result: CommandResult, json: boolean, output: Output): void {
  if (json) {
    printJson(output, result);
    return;
  }
  const parts: string[] = [];
  if (result.stackSets) parts.push(renderStackSetReport(result.stackSets));
  if (result.destroyed && result.stack?.existed !== false) parts.push(renderDestroyed(result.destroyed));
  if (result.leftovers) parts.push(renderLeftovers(result.leftovers));
  if (result.eks) parts.push(renderEksDestroyed(result.eks));
  if (result.stack && result.action === 'destroy' && result.ok) {
    parts.push(
      result.stack.existed === false
        ? `Stack ${result.stack.name} does not exist; nothing to destroy.`
        : `Stack ${result.stack.name} destroyed.`,
    );
  }
  if (parts.length > 0) output.out(parts.join('\n'));
}

function failureMessage(result: CommandResult): string {
  if (result.stackSets && result.error) {
    const summary = failureSummary(result.stackSets);
    return `${result.error.message}${summary ? `; StackSet results: ${summary}` : ''}`;
  }
  if (result.stackSets) return `deploy finished with failures: ${failureSummary(result.stackSets)}`;
  return `destroy did not finish cleanly: ${result.error?.message ?? 'unknown failure'}`;
}

function errorResult(action: 'deploy' | 'destroy', error: unknown): CommandResult {
  const message = error instanceof Error ? error.message : String(error);
  return {
    action,
    ok: false,
    warnings: [],
    error: {
      message,
      ...(error instanceof PreflightError ? { findings: error.findings } : {}),
    },
    exitCode: error instanceof UserInputError ? 2 : 1,
  };
}

/**
 * `falcon-org eks deploy-cluster` as one sequence: the same run lock and runs table as every other
 * way in (discovery, events, destroy), the same check that the deployment is not being destroyed,
 * the opt-out tag (an uninstall sets it so the next sweep leaves the cluster alone; `--opt-in`
 * removes it), then the deployer run, whose result releases the lock and is recorded.
 */
import { randomUUID } from 'node:crypto';
import type { ResolvedConfig } from '../config/load.js';
import type { ComputeMode, RunMode, RunResult } from '../eks/run-contract.js';
import type { ClusterChangesTable, ClusterRef, RunsTable } from '../eks/runs-table.js';
import { destroyingCheck } from '../eks/start-run.js';
import { VERDICT_CODES } from '../eks/verdict.js';
import { describeError } from '../shared/describe-error.js';
import { setOptOutTag } from './opt-out.js';
import { runDeployer, type DeployerDeps } from './run.js';
import type { DeployerEnvironment } from './environment.js';

/** The cluster a CLI run is for, and how it is run. */
export interface DeployClusterOptions {
  readonly accountId: string;
  readonly region: string;
  readonly cluster: string;
  readonly compute: ComputeMode;
  readonly mode: RunMode;
  /** Assume this role in the member account; by default the caller's own credentials are used. */
  readonly roleArn?: string;
}

export interface CliRunOptions extends DeployClusterOptions {
  /** Install: remove the opt-out tag first, so the cluster is protected from now on. */
  readonly optIn?: boolean;
  /** Uninstall: tag the cluster out, so the next sweep does not install again. @default true */
  readonly optOut?: boolean;
  /** Run without the runs table (EKS Protection not deployed). */
  readonly withoutLock?: boolean;
}

/** Where the deployment's runs table is, as the home account's credentials see it. */
export type RunsTableLookup =
  | { readonly found: true; readonly name: string; readonly table: RunsTable & ClusterChangesTable }
  | { readonly found: false; readonly reason: string };

export interface CliRunWiring {
  readonly runsTable: (config: ResolvedConfig) => Promise<RunsTableLookup>;
  readonly deployerDeps: (
    config: ResolvedConfig,
    environment: DeployerEnvironment,
    options: DeployClusterOptions,
    log: (line: string) => void,
  ) => Promise<DeployerDeps>;
}

export type CliRunOutcome =
  | {
      readonly kind: 'ran';
      readonly result: RunResult;
      /** The runs table the lock was taken in and the result recorded to; undefined: --without-lock. */
      readonly runsTable?: string;
    }
  /** Another run holds the cluster; nothing was done. */
  | { readonly kind: 'busy'; readonly message: string }
  /** Not started (the deployment is being destroyed, the mark could not be read, no runs table). */
  | { readonly kind: 'refused'; readonly message: string };

export async function runFromCli(
  config: ResolvedConfig,
  options: CliRunOptions,
  environment: DeployerEnvironment,
  wiring: CliRunWiring,
  log: (line: string) => void,
): Promise<CliRunOutcome> {
  const ref: ClusterRef = { accountId: options.accountId, region: options.region, cluster: options.cluster };
  const runId = environment.request.runId;
  const eks = config.features.eksProtection;
  let table: (RunsTable & ClusterChangesTable) | undefined;
  let tableName: string | undefined;
  if (eks.enabled && options.withoutLock !== true) {
    const lookup = await wiring.runsTable(config);
    if (!lookup.found) return { kind: 'refused', message: lookup.reason };
    table = lookup.table;
    tableName = lookup.name;
  }
  if (table) {
    const lock = await table.takeLock(ref, runId, eks.lockTtlMinutes * 60);
    if (!lock.taken) {
      const until = lock.expiresAt !== undefined ? new Date(lock.expiresAt * 1000).toISOString() : '?';
      return {
        kind: 'busy',
        message: `run ${lock.heldBy ?? '?'} holds ${describe(ref)} (lock in runs table ${tableName ?? '?'} until ${until}); nothing was done — wait for it to finish and try again`,
      };
    }
    if (options.mode === 'install') {
      const stopped = await destroyingCheck(table, ref, runId);
      if (stopped) return { kind: 'refused', message: `${stopped.reason}; nothing was done` };
    }
  }
  let ran = false;
  try {
    const deps = await wiring.deployerDeps(config, environment, options, log);
    if (options.mode === 'install' && options.optIn === true) {
      await setOptOutTag(deps.eks, options.cluster, false);
    }
    if (options.mode === 'uninstall' && options.optOut !== false) {
      // Before anything is removed: a sweep after this run must not put Falcon back.
      await setOptOutTag(deps.eks, options.cluster, true);
      await table?.recordVerdict(ref, {
        kind: 'ineligible',
        code: VERDICT_CODES.optedOut,
        reason: `Tagged out by falcon-org eks deploy-cluster --uninstall (run ${runId}); remove the tag, or run deploy-cluster --opt-in, to protect it again.`,
      });
    }
    ran = true;
    const result = await runDeployer(
      { ...environment.request, executionRoleArn: deps.principalArn },
      environment.settings,
      table ? { ...deps, runs: table } : deps,
    );
    return { kind: 'ran', result, ...(tableName !== undefined ? { runsTable: tableName } : {}) };
  } catch (error) {
    throw new Error(`${describe(ref)}: ${describeError(error)}`, { cause: error });
  } finally {
    // The deployer releases the lock with its result; anything that failed before gives it back.
    if (!ran && table) await table.abandonLock(ref, runId).catch(() => undefined);
  }
}

/** A run ID for the CLI: recognisable in the runs table and the cluster's audit log. */
export function cliRunId(): string {
  return `cli-${randomUUID()}`;
}

function describe(ref: ClusterRef): string {
  return `cluster ${ref.cluster} (account ${ref.accountId}, ${ref.region})`;
}

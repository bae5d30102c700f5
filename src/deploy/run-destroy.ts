import { ListStackInstancesCommand, type StackInstanceSummary } from '@aws-sdk/client-cloudformation';
import {
  buildStackSetReport,
  type CloudFormationSender,
  listInstances,
  observeStackSet,
  type WaitOptions,
} from '../aws/stackset-results.js';
import type { ResolvedConfig } from '../config/load.js';
import { currentClientVersions, currentCredentialsVersion } from './credentials-version.js';
import type { RootStackInfo } from './deployer.js';
import { NotConfirmedError } from './errors.js';
import { isEcrStackSet, leftoversOf } from './leftovers.js';
import { purgeUpdateFailures, type NotPurged } from './purge-results.js';
import { ProgressIoHost } from './io-host.js';
import { checkRootEnvironment, preflightGate } from './preflight-gate.js';
import type { CommandResult, DestroyedStackSet } from './report.js';
import { listRootStackSets, type RootStackSet } from './root-stacksets.js';
import { callAsFor, type DeployDependencies } from './run-deploy.js';
import { clientValuesInEnvironment, createScrubber } from './secrets.js';

/**
 * Everything `destroy` talks to: the same as deploy's. `confirm` undefined (not a terminal) means only
 * --yes lets destroy proceed.
 */
export type DestroyDependencies = DeployDependencies;

export interface DestroyFlags {
  readonly yes: boolean;
  /**
   * Also remove what the stack instances leave behind by default (the ECR ownership parameter and
   * log group): the root stack is first updated so the ECR custom resources carry PurgeOnDelete,
   * then deleted. @default false
   */
  readonly purge?: boolean;
  /** Skip the EKS uninstall runs that otherwise remove the operator and sensors from protected clusters first. */
  readonly keepClusterSensors?: boolean;
}

/**
 * destroy: pre-flight → inventory of the root stack's StackSets and instances → confirmation
 * (unless --yes; refused without a terminal) → with --purge, an update of the root stack that has
 * the ECR custom resources remove their leftovers on delete → toolkit destroy of the root stack,
 * which deletes the SERVICE_MANAGED StackSets and their instances → per-StackSet account of what
 * happened and of what stays in member accounts.
 * Error results (failed destroy) are returned with `ok: false` and `error`, not thrown, so the
 * per-StackSet account is still shown.
 */
export async function runDestroy(
  config: ResolvedConfig,
  flags: DestroyFlags,
  deps: DestroyDependencies,
): Promise<CommandResult> {
  // Falcon credentials are not needed to delete, but scrub them anyway if they are set.
  // Trimmed as deploy trims them, so the value CloudFormation holds is the one scrubbed.
  const scrub = createScrubber(clientValuesInEnvironment(deps.env));
  const { identity, warnings } = await preflightGate(deps.clients, config, deps.progress, deps.env, {
    checkDistributorDocument: false,
  });
  const root = deps.deployer.describeRoot(config);
  checkRootEnvironment(root, config, identity);
  const cfn = deps.clients.cloudFormation;
  const callAs = callAsFor(config);
  const where = `aws://${identity.account}/${config.aws.homeRegion}`;
  const stack = { name: root.stackName, account: identity.account, region: config.aws.homeRegion };

  const stackSets = await listRootStackSets(cfn, root.stackName);
  if (stackSets === undefined) {
    deps.progress.line(`Stack ${root.stackName} does not exist in ${where}; nothing to destroy.`);
    return { action: 'destroy', ok: true, stack: { ...stack, existed: false }, warnings, destroyed: [] };
  }
  const before = new Map<string, number>();
  let ecrInstances: StackInstanceSummary[] = [];
  let ecrStackSet: string | undefined;
  for (const s of stackSets) {
    const instances = await listInstances(cfn, s.stackSetName, callAs);
    before.set(s.stackSetName, instances.length);
    if (isEcrStackSet(config, s.stackSetName)) {
      ecrInstances = instances;
      ecrStackSet = s.stackSetName;
    }
  }
  const instanceCount = [...before.values()].reduce((a, b) => a + b, 0);
  const purge = flags.purge === true && ecrStackSet !== undefined && ecrInstances.length > 0;
  const now = deps.now ?? (() => new Date());

  const question =
    `Delete stack ${root.stackName} in ${where} with ${stackSets.length} StackSet(s) and their ` +
    `${instanceCount} stack instance(s) in member accounts` +
    `${purge ? `, and purge the ECR ownership parameter and log group in ${ecrInstances.length} account(s)` : ''}? [y/N] `;
  if (!flags.yes) {
    if (!deps.confirm) {
      throw new NotConfirmedError(
        `destroy deletes stack ${root.stackName} and ${instanceCount} stack instance(s) and cannot be undone; ` +
          'without a terminal to confirm, re-run with --yes',
      );
    }
    if (!(await deps.confirm(question)))
      throw new NotConfirmedError('destroy cancelled; nothing was changed');
  }

  if (flags.keepClusterSensors !== true) {
    const { uninstallClustersOrStop } = await import('../cluster/destroy-hook.js');
    await uninstallClustersOrStop(config, (line) => deps.progress.line(line));
  }

  let notPurged: NotPurged[] = [];
  if (purge && ecrStackSet !== undefined) {
    const purgeStarted = now();
    const failure = await purgeUpdate(config, root, deps, scrub);
    if (failure !== undefined) {
      return {
        action: 'destroy',
        ok: false,
        stack,
        warnings,
        destroyed: [],
        error: {
          message: scrub(
            `the update that makes the stack instances purge on delete failed, so nothing was deleted: ${failure}; ` +
              're-run destroy --purge, or destroy without --purge to leave the ECR leftovers in place',
          ),
        },
      };
    }
    // With a failure tolerance the update passes although some accounts failed: those instances keep
    // the template without PurgeOnDelete, so their Delete leaves everything in place.
    notPurged = await purgeUpdateFailures(
      cfn,
      { stackSetName: ecrStackSet, callAs, since: purgeStarted },
      ecrInstances,
      deps.wait,
    );
  }
  const leftovers = ecrInstances.length > 0 ? leftoversOf(config, ecrInstances, purge, notPurged) : undefined;

  const started = now();
  deps.progress.line(`Destroying stack ${root.stackName} in ${where}...`);
  const ioHost = new ProgressIoHost({
    progress: deps.progress,
    scrub,
    approveDeploy: () => Promise.resolve(false),
    ...(deps.transcript ? { transcript: deps.transcript } : {}),
  });
  let failure: string | undefined;
  try {
    await deps.deployer.destroy({ config, root, ioHost, scrub });
  } catch (error) {
    if (error instanceof NotConfirmedError) throw error;
    failure = error instanceof Error ? error.message : String(error);
  } finally {
    deps.progress.stop();
  }

  const destroyed: DestroyedStackSet[] = [];
  for (const s of stackSets)
    destroyed.push(await afterDestroy(cfn, s, before.get(s.stackSetName) ?? 0, callAs, started, deps.wait));
  const remaining = destroyed.filter((d) => d.outcome === 'remaining');
  const ok = failure === undefined && remaining.length === 0;
  const message =
    failure ??
    (remaining.length > 0
      ? `StackSet instances remain: ${remaining.map((r) => r.name).join(', ')}`
      : undefined);
  return {
    action: 'destroy',
    ok,
    stack,
    warnings,
    destroyed,
    ...(leftovers ? { leftovers } : {}),
    ...(message ? { error: { message: scrub(message) } } : {}),
  };
}

/**
 * Deploys the root stack as it is, except that the ECR custom resources carry PurgeOnDelete "true"
 * (and the credentials keep their deployed values): the Delete that follows then has each
 * account's handler remove its ownership parameter and log group. Returns why it failed, if it did.
 */
async function purgeUpdate(
  config: ResolvedConfig,
  root: RootStackInfo,
  deps: DestroyDependencies,
  scrub: (text: string) => string,
): Promise<string | undefined> {
  const credentialsVersionId = await currentCredentialsVersion(deps.clients.secretsManager, config);
  const clientVersionIds = await currentClientVersions(deps.clients.secretsManager, config);
  deps.progress.line(
    `Updating stack ${root.stackName} so its ECR stack instances purge their leftovers when deleted...`,
  );
  const ioHost = new ProgressIoHost({
    progress: deps.progress,
    scrub,
    // The user confirmed the destroy with --purge; this update only flips the purge setting.
    approveDeploy: () => Promise.resolve(true),
    ...(deps.transcript ? { transcript: deps.transcript } : {}),
  });
  try {
    await deps.deployer.deploy({
      config,
      root,
      parameters: {},
      keepExistingParameters: true,
      ioHost,
      scrub,
      appOptions: {
        purgeOnDelete: true,
        ...(credentialsVersionId ? { credentialsVersionId } : {}),
        ...(Object.keys(clientVersionIds).length > 0 ? { clientVersionIds } : {}),
      },
    });
    return undefined;
  } catch (error) {
    if (error instanceof NotConfirmedError) throw error;
    return error instanceof Error ? error.message : String(error);
  } finally {
    deps.progress.stop();
  }
}

async function afterDestroy(
  cfn: CloudFormationSender,
  set: RootStackSet,
  instancesBefore: number,
  callAs: ReturnType<typeof callAsFor>,
  started: Date,
  wait: WaitOptions | undefined,
): Promise<DestroyedStackSet> {
  try {
    await cfn.send(
      new ListStackInstancesCommand({ StackSetName: set.stackSetName, CallAs: callAs, MaxResults: 1 }),
    );
  } catch (error) {
    if (error instanceof Error && error.name === 'StackSetNotFoundException') {
      return { name: set.stackSetName, instancesBefore, outcome: 'deleted', remaining: [] };
    }
    throw error;
  }
  // The StackSet survived: say which instances are left and why (latest delete operation results).
  const observation = await observeStackSet(
    cfn,
    { stackSetName: set.stackSetName, callAs, since: started },
    wait,
  );
  const rows = buildStackSetReport([observation]).stackSets[0]?.rows ?? [];
  const left = rows.filter((r) =>
    observation.instances.some((i) => i.Account === r.account && i.Region === r.region),
  );
  return {
    name: set.stackSetName,
    instancesBefore,
    outcome: 'remaining',
    remaining: left,
  };
}

import { ListStackInstancesCommand } from '@aws-sdk/client-cloudformation';
import {
  buildStackSetReport,
  type CloudFormationSender,
  listInstances,
  observeStackSet,
  type WaitOptions,
} from '../aws/stackset-results.js';
import type { ResolvedConfig } from '../config/load.js';
import { NotConfirmedError } from './errors.js';
import { ProgressIoHost } from './io-host.js';
import { checkRootEnvironment, preflightGate } from './preflight-gate.js';
import type { CommandResult, DestroyedStackSet } from './report.js';
import { listRootStackSets, type RootStackSet } from './root-stacksets.js';
import { callAsFor, type DeployDependencies } from './run-deploy.js';
import { CLIENT_ID_VARIABLE, CLIENT_SECRET_VARIABLE, createScrubber } from './secrets.js';

/**
 * Everything `destroy` talks to: the same as deploy's. `confirm` undefined (not a terminal) means only
 * --yes lets destroy proceed.
 */
export type DestroyDependencies = DeployDependencies;

export interface DestroyFlags {
  readonly yes: boolean;
}

/**
 * destroy: pre-flight → inventory of the root stack's StackSets and instances → confirmation
 * (unless --yes; refused without a terminal) → toolkit destroy of the root stack, which deletes
 * the SERVICE_MANAGED StackSets and their instances → per-StackSet account of what happened.
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
  const scrub = createScrubber(
    [deps.env[CLIENT_ID_VARIABLE], deps.env[CLIENT_SECRET_VARIABLE]]
      .map((v) => v?.trim() ?? '')
      .filter((v) => v !== ''),
  );
  const { identity, warnings } = await preflightGate(deps.clients, config, deps.progress, deps.env);
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
  for (const s of stackSets)
    before.set(s.stackSetName, (await listInstances(cfn, s.stackSetName, callAs)).length);
  const instanceCount = [...before.values()].reduce((a, b) => a + b, 0);

  const question =
    `Delete stack ${root.stackName} in ${where} with ${stackSets.length} StackSet(s) and their ` +
    `${instanceCount} stack instance(s) in member accounts? [y/N] `;
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

  const started = (deps.now ?? (() => new Date()))();
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
    ...(message ? { error: { message: scrub(message) } } : {}),
  };
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

import type { CallAs } from '@aws-sdk/client-cloudformation';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PreflightClients } from '../aws/preflight.js';
import {
  buildStackSetReport,
  type CloudFormationSender,
  observeStackSetOrReason,
  type StackSetReport,
  type WaitOptions,
} from '../aws/stackset-results.js';
import { UserInputError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import { currentClientVersions, currentCredentialsVersion } from './credentials-version.js';
import type { Deployer } from './deployer.js';
import { NotConfirmedError } from './errors.js';
import { stackSetResultsAfterFailure } from './failed-deploy.js';
import { type Confirm, ProgressIoHost } from './io-host.js';
import { stageManifestForBuild } from './operator-manifest.js';
import type { FalconProbeWiring } from './falcon-preflight.js';
import { checkRootEnvironment, preflightGate } from './preflight-gate.js';
import type { Progress } from './progress.js';
import type { CommandResult } from './report.js';
import { listRootStackSets } from './root-stacksets.js';
import { createScrubber, rootParameters } from './secrets.js';
import { watchStackSets, type WatchOptions } from './stackset-watch.js';

/** Everything `deploy` talks to, injected. */
export interface DeployDependencies {
  readonly deployer: Deployer;
  readonly clients: PreflightClients & {
    readonly cloudFormation: CloudFormationSender;
    readonly secretsManager: Pick<SecretsManagerClient, 'send'>;
  };
  readonly env: NodeJS.ProcessEnv;
  readonly progress: Progress;
  /** Undefined when nobody can answer questions (stdin/stderr not a terminal). */
  readonly confirm?: Confirm;
  readonly wait?: WaitOptions;
  /** How often the StackSets are looked at while the root stack deploys. */
  readonly watch?: WatchOptions;
  readonly now?: () => Date;
  /** Receives the scrubbed text of every toolkit message (tests, --debug). */
  readonly transcript?: string[];
  /** Fetches the operator manifest's release URL (tests: a local server). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Probes each Falcon API client in the pre-flight (one cheap read per scope). @default - not probed */
  readonly falconProbe?: FalconProbeWiring;
}

export interface DeployFlags {
  /** Approve security-sensitive changes without asking. */
  readonly yes: boolean;
  /** `--operator-manifest FILE`: a local copy of the pinned operator manifest instead of downloading it. */
  readonly operatorManifest?: string;
}

/** How far before the deploy started an operation may have been created and still count as ours. */
const CLOCK_SKEW_MS = 2 * 60_000;

export function callAsFor(config: ResolvedConfig): CallAs {
  return config.aws.accountType === 'delegatedAdmin' ? 'DELEGATED_ADMIN' : 'SELF';
}

/**
 * deploy: credentials from the environment → pre-flight → toolkit deploy of the root stack →
 * wait for the StackSet operations → per-account/region report. When the root stack fails, the
 * report holds the failed operations' per-account results (from the watch kept during the deploy
 * when the rollback deleted the StackSets) and `error` the toolkit's message. Returns the result;
 * the caller prints it and turns `ok: false` into exit code 1.
 *
 * With EKS protection enabled, the pinned operator manifest is staged and its SHA-256 checked first
 * of all (a mismatch throws OperatorManifestChecksumError, nothing deployed); the artifact bucket
 * uploads it to `operatorManifestKey(version)`.
 */
export async function runDeploy(
  config: ResolvedConfig,
  flags: DeployFlags,
  deps: DeployDependencies,
): Promise<CommandResult & { stackSets: StackSetReport }> {
  const manifest = await stageManifestForBuild(config, {
    ...(flags.operatorManifest !== undefined ? { file: flags.operatorManifest } : {}),
    allowFetch: true,
    ...(deps.fetch ? { fetchImpl: deps.fetch } : {}),
  });
  try {
    if (manifest) {
      deps.progress.line(
        `Falcon Operator manifest: ${manifest.source} (${manifest.bytes} bytes, SHA-256 checked) → ${manifest.key}`,
      );
    }
    return await deployStaged(config, flags, deps, manifest?.dir);
  } finally {
    await manifest?.cleanup();
  }
}

async function deployStaged(
  config: ResolvedConfig,
  flags: DeployFlags,
  deps: DeployDependencies,
  operatorManifestDir: string | undefined,
): Promise<CommandResult & { stackSets: StackSetReport }> {
  const { parameters, secrets } = rootParameters(config, deps.env);
  const scrub = createScrubber(secrets);
  const { identity, warnings } = await preflightGate(
    deps.clients,
    config,
    deps.progress,
    deps.env,
    deps.falconProbe ? { falcon: deps.falconProbe } : {},
  );
  const root = deps.deployer.describeRoot(config);
  checkRootEnvironment(root, config, identity);
  const credentialsVersionId = await currentCredentialsVersion(deps.clients.secretsManager, config);
  if (credentialsVersionId) {
    deps.progress.line(`Falcon credentials: version ${credentialsVersionId} of falcon.credentials.secretArn`);
  }
  const clientVersionIds = await currentClientVersions(deps.clients.secretsManager, config);
  for (const [arn, version] of Object.entries(clientVersionIds)) {
    deps.progress.line(`Falcon credentials: version ${version} of ${arn}`);
  }
  const pinned = Object.keys(clientVersionIds).length > 0;

  const now = deps.now ?? (() => new Date());
  const started = now();
  const callAs = callAsFor(config);
  const since = new Date(started.getTime() - CLOCK_SKEW_MS);
  const supplied = Object.fromEntries(
    Object.entries(parameters).filter(([name]) => root.parameterNames.includes(name)),
  );
  deps.progress.line(
    `Deploying stack ${root.stackName} to aws://${identity.account}/${config.aws.homeRegion}...`,
  );
  const ioHost = new ProgressIoHost({
    progress: deps.progress,
    scrub,
    approveDeploy: (motivation, diff) => approve(flags, deps, motivation, diff),
    ...(deps.transcript ? { transcript: deps.transcript } : {}),
  });
  // Watched during the deploy: a rolled-back first deploy deletes the StackSets with their results.
  const watch = watchStackSets(
    deps.clients.cloudFormation,
    { stackName: root.stackName, callAs, since },
    deps.watch,
  );
  let outcome;
  try {
    outcome = await deps.deployer.deploy({
      config,
      root,
      parameters: supplied,
      ioHost,
      scrub,
      ...(credentialsVersionId || operatorManifestDir || pinned
        ? {
            appOptions: {
              ...(credentialsVersionId ? { credentialsVersionId } : {}),
              ...(pinned ? { clientVersionIds } : {}),
              ...(operatorManifestDir ? { operatorManifestDir } : {}),
            },
          }
        : {}),
    });
  } catch (error) {
    const watched = await watch.stop();
    deps.progress.stop();
    // Declined confirmations and other input errors keep their exit code 2; nothing was deployed.
    if (error instanceof UserInputError) throw error;
    deps.progress.line(`Stack ${root.stackName} failed to deploy; reading its StackSet operations...`);
    const report = await stackSetResultsAfterFailure(
      deps.clients.cloudFormation,
      { stackName: root.stackName, callAs, since },
      watched,
      deps.wait,
    );
    return {
      action: 'deploy',
      ok: false,
      stack: { name: root.stackName, account: identity.account, region: config.aws.homeRegion },
      warnings,
      stackSets: report,
      error: { message: scrub(error instanceof Error ? error.message : String(error)) },
      exitCode: 1,
    };
  } finally {
    deps.progress.stop();
  }
  await watch.stop();
  deps.progress.line(`Stack ${outcome.stackName} deployed; waiting for StackSet operations...`);

  const stackSets = (await listRootStackSets(deps.clients.cloudFormation, outcome.stackName)) ?? [];
  // The stack is deployed by now: a StackSet whose results cannot be read is reported, not fatal.
  const observations = await Promise.all(
    stackSets.map((s) =>
      observeStackSetOrReason(
        deps.clients.cloudFormation,
        { stackSetName: s.stackSetName, callAs, since },
        {
          ...deps.wait,
          onWaiting: (name, active) =>
            deps.progress.line(
              `  ${name}: ${active.map((o) => `${o.Action ?? 'operation'} ${o.Status ?? ''}`).join(', ')}`,
            ),
        },
      ),
    ),
  );
  const report = buildStackSetReport(observations);
  return {
    action: 'deploy',
    ok: report.ok,
    stack: {
      name: outcome.stackName,
      ...(outcome.stackArn ? { arn: outcome.stackArn } : {}),
      account: outcome.account,
      region: outcome.region,
    },
    warnings,
    stackSets: report,
  };
}

async function approve(
  flags: DeployFlags,
  deps: DeployDependencies,
  motivation: string,
  diff: string,
): Promise<boolean> {
  if (flags.yes) return true;
  if (!/security-sensitive/i.test(motivation)) return true;
  if (!deps.confirm) {
    throw new NotConfirmedError(
      `${motivation}; nobody can confirm this without a terminal: review with "falcon-org plan" and re-run deploy with --yes`,
    );
  }
  deps.progress.stop();
  deps.progress.line(diff);
  const yes = await deps.confirm(`${motivation}. Deploy these changes? [y/N] `);
  if (!yes)
    throw new NotConfirmedError('deploy cancelled: the security-sensitive changes were not confirmed');
  return true;
}

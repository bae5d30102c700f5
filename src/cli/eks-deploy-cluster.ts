import type { Command } from 'commander';
import type { CliRunOptions, CliRunWiring, RunsTableLookup } from '../cluster/cli-run.js';
import type { ResolvedConfig } from '../config/load.js';
import { UserInputError } from '../config/errors.js';
import { COMPUTE_MODES, OPT_OUT_TAG, type ComputeMode } from '../eks/run-contract.js';
import { ExitCode, ExitStatus } from './exit.js';
import { printJson, type Output } from '../shared/output.js';

interface Flags {
  config: string;
  account: string;
  region: string;
  cluster: string;
  compute: string;
  uninstall?: boolean;
  roleArn?: string;
  optIn?: boolean;
  optOut: boolean;
  homeProfile?: string;
  withoutLock?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/** How the command gets its adapters; tests pass their own. */
export interface DeployClusterWiring {
  readonly runsTable: (config: ResolvedConfig, homeProfile?: string) => Promise<RunsTableLookup>;
  readonly deployerDeps: CliRunWiring['deployerDeps'];
}

export function registerEksDeployCluster(
  program: Command,
  output: Output,
  wiring?: DeployClusterWiring,
): void {
  const eks =
    program.commands.find((c) => c.name() === 'eks') ??
    program.command('eks').description('EKS Protection commands');
  eks
    .command('deploy-cluster')
    .description(
      'Run the EKS deployer against one cluster from this terminal (the same program CodeBuild runs): ' +
        'install or upgrade the Falcon Operator and sensors, or remove them with --uninstall. Takes the ' +
        "cluster's run lock in the deployment's runs table (home account) and records the result there, like " +
        `every other run; --uninstall also tags the cluster ${OPT_OUT_TAG.key}=${OPT_OUT_TAG.value} so the next ` +
        'sweep leaves it alone. Uses your AWS credentials for the cluster account (or --role-arn) and ' +
        'FALCON_CLIENT_ID/FALCON_CLIENT_SECRET when falcon.credentials.source is "environment".',
    )
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .requiredOption('--account <id>', "the cluster's AWS account ID")
    .requiredOption('--region <region>', "the cluster's region")
    .requiredOption('--cluster <name>', 'the EKS cluster name')
    .option('--compute <mode>', `compute of the cluster: ${COMPUTE_MODES.join(', ')}`, 'nodes')
    .option('--uninstall', 'remove the Falcon custom resources, then the operator')
    .option('--role-arn <arn>', 'assume this role in the cluster account instead of using your credentials')
    .option(
      '--opt-in',
      `remove the ${OPT_OUT_TAG.key} tag first, so the cluster is protected from now on (sweeps included)`,
    )
    .option(
      '--no-opt-out',
      `with --uninstall: do not tag the cluster ${OPT_OUT_TAG.key}=${OPT_OUT_TAG.value} (the next sweep installs again)`,
    )
    .option(
      '--home-profile <profile>',
      'AWS profile of the home account, for the runs table (default: the credentials in use)',
    )
    .option(
      '--without-lock',
      'run without the runs table: only where EKS Protection is not deployed (nothing else can run on the cluster)',
    )
    .option('--json', 'print the run result as JSON')
    .option('--verbose', 'print the run log (JSON lines) to stderr')
    .action(async (flags: Flags) => {
      const problems: string[] = [];
      if (!/^\d{12}$/.test(flags.account)) problems.push(`--account "${flags.account}": expected 12 digits`);
      if (!COMPUTE_MODES.includes(flags.compute as ComputeMode)) {
        problems.push(`--compute "${flags.compute}": expected one of ${COMPUTE_MODES.join(', ')}`);
      }
      if (flags.optIn === true && flags.uninstall === true) {
        problems.push('--opt-in installs: it cannot be combined with --uninstall');
      }
      if (problems.length > 0) throw new UserInputError(problems.join('; '));
      // Loaded on use: the AWS SDK clients stay out of the CLI's start-up.
      const { loadConfigFile } = await import('../config/load.js');
      const { cliDeployerDeps, cliRunsTable, environmentFromConfig } =
        await import('../cluster/from-config.js');
      const { runFromCli } = await import('../cluster/cli-run.js');
      const { exitCodeOf } = await import('../cluster/main.js');
      const config = await loadConfigFile(flags.config);
      const options: CliRunOptions = {
        accountId: flags.account,
        region: flags.region,
        cluster: flags.cluster,
        compute: flags.compute as ComputeMode,
        mode: flags.uninstall === true ? 'uninstall' : 'install',
        ...(flags.roleArn !== undefined ? { roleArn: flags.roleArn } : {}),
        optIn: flags.optIn === true,
        optOut: flags.optOut,
        withoutLock: flags.withoutLock === true,
      };
      const environment = await environmentFromConfig(config, options, process.env);
      const log = (line: string) => {
        if (flags.verbose === true) output.err(line);
      };
      const wired = wiring ?? { runsTable: cliRunsTable, deployerDeps: cliDeployerDeps };
      const outcome = await runFromCli(
        config,
        options,
        environment,
        { runsTable: (c) => wired.runsTable(c, flags.homeProfile), deployerDeps: wired.deployerDeps },
        log,
      );
      if (outcome.kind !== 'ran') throw new ExitStatus(outcome.message, ExitCode.Failure);
      const result = outcome.result;
      if (flags.json === true) printJson(output, result);
      else {
        output.out(`${result.cluster} (${result.accountId}/${result.region}): ${result.outcome}`);
        if (result.reason !== undefined) output.out(`  reason: ${result.reason}`);
        for (const c of result.components) {
          output.out(`  ${c.name}${c.version !== undefined ? ` ${c.version}` : ''}: ${c.status}`);
        }
        output.out(
          outcome.runsTable !== undefined
            ? `  run ${result.runId}: lock taken and result recorded in runs table ${outcome.runsTable}`
            : `  run ${result.runId}: no run lock (${options.withoutLock === true ? '--without-lock' : 'EKS Protection is not enabled in the configuration'})`,
        );
        if (options.mode === 'uninstall' && options.optOut !== false)
          output.out(
            `  tagged ${OPT_OUT_TAG.key}=${OPT_OUT_TAG.value}: sweeps and events leave this cluster alone`,
          );
        if (options.optIn === true)
          output.out(`  tag ${OPT_OUT_TAG.key} removed: the cluster is protected again`);
      }
      const code = exitCodeOf(result);
      if (code !== 0) throw new ExitStatus(`${result.cluster}: ${result.outcome}`, code as ExitCode);
    });
}

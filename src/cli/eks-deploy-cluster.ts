import type { Command } from 'commander';
import type { cliDeployerDeps, DeployClusterOptions } from '../cluster/from-config.js';
import { UserInputError } from '../config/errors.js';
import { COMPUTE_MODES, type ComputeMode } from '../eks/run-contract.js';
import { ExitStatus, type ExitCode } from './exit.js';
import { printJson, type Output } from './output.js';

interface Flags {
  config: string;
  account: string;
  region: string;
  cluster: string;
  compute: string;
  uninstall?: boolean;
  roleArn?: string;
  json?: boolean;
  verbose?: boolean;
}

/** How the command gets its adapters; tests pass their own. */
export type DeployClusterWiring = typeof cliDeployerDeps;

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
        'install or upgrade the Falcon Operator and sensors, or remove them with --uninstall. Uses your AWS ' +
        'credentials for the cluster account (or --role-arn) and FALCON_CLIENT_ID/FALCON_CLIENT_SECRET when ' +
        'falcon.credentials.source is "environment".',
    )
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .requiredOption('--account <id>', "the cluster's AWS account ID")
    .requiredOption('--region <region>', "the cluster's region")
    .requiredOption('--cluster <name>', 'the EKS cluster name')
    .option('--compute <mode>', `compute of the cluster: ${COMPUTE_MODES.join(', ')}`, 'nodes')
    .option('--uninstall', 'remove the Falcon custom resources, then the operator')
    .option('--role-arn <arn>', 'assume this role in the cluster account instead of using your credentials')
    .option('--json', 'print the run result as JSON')
    .option('--verbose', 'print the run log (JSON lines) to stderr')
    .action(async (flags: Flags) => {
      const problems: string[] = [];
      if (!/^\d{12}$/.test(flags.account)) problems.push(`--account "${flags.account}": expected 12 digits`);
      if (!COMPUTE_MODES.includes(flags.compute as ComputeMode)) {
        problems.push(`--compute "${flags.compute}": expected one of ${COMPUTE_MODES.join(', ')}`);
      }
      if (problems.length > 0) throw new UserInputError(problems.join('; '));
      // Loaded on use: the AWS SDK clients stay out of the CLI's start-up.
      const { loadConfigFile } = await import('../config/load.js');
      const { cliDeployerDeps, environmentFromConfig } = await import('../cluster/from-config.js');
      const { runDeployer } = await import('../cluster/run.js');
      const { exitCodeOf } = await import('../cluster/main.js');
      const config = await loadConfigFile(flags.config);
      const options: DeployClusterOptions = {
        accountId: flags.account,
        region: flags.region,
        cluster: flags.cluster,
        compute: flags.compute as ComputeMode,
        mode: flags.uninstall === true ? 'uninstall' : 'install',
        ...(flags.roleArn !== undefined ? { roleArn: flags.roleArn } : {}),
      };
      const environment = await environmentFromConfig(config, options, process.env);
      const log = (line: string) => {
        if (flags.verbose === true) output.err(line);
      };
      const deps = await (wiring ?? cliDeployerDeps)(config, environment, options, log);
      const result = await runDeployer(
        { ...environment.request, executionRoleArn: deps.principalArn },
        environment.settings,
        deps,
      );
      if (flags.json === true) printJson(output, result);
      else {
        output.out(`${result.cluster} (${result.accountId}/${result.region}): ${result.outcome}`);
        if (result.reason !== undefined) output.out(`  reason: ${result.reason}`);
        for (const c of result.components) {
          output.out(`  ${c.name}${c.version !== undefined ? ` ${c.version}` : ''}: ${c.status}`);
        }
      }
      const code = exitCodeOf(result);
      if (code !== 0) throw new ExitStatus(`${result.cluster}: ${result.outcome}`, code as ExitCode);
    });
}

import type { Command } from 'commander';
import type { CommandOptions } from '../deploy/command.js';
import type { Output } from '../shared/output.js';

export function registerDestroy(program: Command, output: Output): void {
  program
    .command('destroy')
    .description(
      'Delete the root stack; its SERVICE_MANAGED StackSets and their stack instances in member accounts go ' +
        'with it, except what ECR connections keep by design in each account (the ownership SSM parameter and ' +
        'the retained log group), which the report names and --purge removes. Asks first on a terminal; ' +
        'without a terminal it needs --yes',
    )
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--json', 'print one JSON result on stdout (progress stays on stderr)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option(
      '--purge',
      "first update the stack so each account's ECR handler also deletes its ownership parameter and log group, then delete",
    )
    .option(
      '--keep-cluster-sensors',
      'do not first run the EKS deployer in uninstall mode on protected clusters (their sensors then stay)',
    )
    .option(
      '--skip-account <id...>',
      'leave Falcon on every EKS cluster of these accounts (e.g. a closed or suspended account), uninstall the rest',
    )
    .option(
      '--skip-cluster <cluster...>',
      'leave Falcon on these EKS clusters (ACCOUNT/REGION/NAME or cluster ARN), uninstall the rest',
    )
    .action(async (opts: CommandOptions) => {
      // Loaded on use: the AWS SDK clients and toolkit-lib are heavy, other commands skip them.
      const { runCommand } = await import('../deploy/command.js');
      await runCommand('destroy', opts, output);
    });
}

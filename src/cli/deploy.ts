import type { Command } from 'commander';
import type { CommandOptions } from '../deploy/command.js';
import type { Output } from '../shared/output.js';

export function registerDeploy(program: Command, output: Output): void {
  program
    .command('deploy')
    .description(
      'Deploy the root stack and its StackSets from the home account and region, wait for every StackSet ' +
        'operation and report per account and region (needs AWS credentials; FALCON_CLIENT_ID and ' +
        'FALCON_CLIENT_SECRET when falcon.credentials.source is "environment", and FALCON_<SSM|EKS|ECR|COVERAGE>_CLIENT_ID ' +
        'and _CLIENT_SECRET for each falcon.clients.<feature> from the environment)',
    )
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--json', 'print one JSON result on stdout (progress stays on stderr)')
    .option('-y, --yes', 'approve security-sensitive changes (IAM) without asking')
    .option(
      '--operator-manifest <file>',
      'EKS protection: a local copy of the pinned Falcon Operator manifest to upload (default: fetched once from ' +
        'features.eksProtection.deployer.operator.manifestUrl); its SHA-256 must match manifestSha256',
    )
    .action(async (opts: CommandOptions) => {
      // Loaded on use: the AWS SDK clients and toolkit-lib are heavy, other commands skip them.
      const { runCommand } = await import('../deploy/command.js');
      await runCommand('deploy', opts, output);
    });
}

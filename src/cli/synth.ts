import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import type { Output } from './output.js';

export function registerSynth(program: Command, output: Output): void {
  program
    .command('synth')
    .description(
      'Write every CloudFormation template and Lambda artifact to a directory (no AWS credentials needed)',
    )
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .requiredOption('-o, --out <dir>', 'output directory (a CDK cloud assembly)')
    .option('--lambda-dir <dir>', 'directory with the built Lambda bundles', 'dist/lambda')
    .action(async (opts: { config: string; out: string; lambdaDir: string }) => {
      const config = await loadConfigFile(opts.config);
      // Loaded on use: aws-cdk-lib and cdk-nag take most of a second to import, other commands skip them.
      const { synthesize } = await import('../infra/synth.js');
      output.err(`synthesizing ${config.resourcePrefix} into ${opts.out} ...`);
      const result = synthesize(config, { outdir: opts.out, lambdaDir: opts.lambdaDir });
      for (const warning of result.warnings) output.err(`warning: ${warning}`);
      output.out(`${result.outdir}/${result.rootTemplateFile}  (root stack ${result.rootStackName})`);
      for (const file of result.stackSetTemplateFiles)
        output.out(`${result.outdir}/${file}  (StackSet member)`);
      for (const asset of result.assets) output.out(`${result.outdir}/${asset}  (asset)`);
      output.err(
        `done: 1 root template, ${result.stackSetTemplateFiles.length} StackSet templates, ${result.assets.length} assets`,
      );
    });
}

import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import type { Output } from '../shared/output.js';

export function registerSynth(program: Command, output: Output): void {
  program
    .command('synth')
    .description(
      'Write every CloudFormation template and Lambda artifact to a directory (no AWS credentials needed)',
    )
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .requiredOption('-o, --out <dir>', 'output directory (a CDK cloud assembly)')
    .option('--lambda-dir <dir>', 'directory with the built Lambda bundles', 'dist/lambda')
    .option(
      '--operator-manifest <file>',
      'EKS protection: a local copy of the pinned Falcon Operator manifest to include (checked against manifestSha256)',
    )
    .action(async (opts: { config: string; out: string; lambdaDir: string; operatorManifest?: string }) => {
      const config = await loadConfigFile(opts.config);
      // Loaded on use: aws-cdk-lib and cdk-nag take most of a second to import, other commands skip them.
      const { synthesize } = await import('../infra/synth.js');
      const { stageManifestForBuild } = await import('../deploy/operator-manifest.js');
      // synth needs no network: only a local copy is staged; deploy fetches the release when there is none.
      const manifest = await stageManifestForBuild(config, {
        ...(opts.operatorManifest !== undefined ? { file: opts.operatorManifest } : {}),
        allowFetch: false,
      });
      if (config.features.eksProtection.enabled && !manifest) {
        output.err(
          'note: no local operator manifest (--operator-manifest or operator.manifestFile): the template uploads none; ' +
            '"deploy" fetches the pinned release once, checks its SHA-256 and uploads it',
        );
      }
      output.err(`synthesizing ${config.resourcePrefix} into ${opts.out} ...`);
      let result;
      try {
        result = synthesize(config, {
          outdir: opts.out,
          lambdaDir: opts.lambdaDir,
          ...(manifest ? { operatorManifestDir: manifest.dir } : {}),
        });
      } finally {
        await manifest?.cleanup();
      }
      if (manifest) output.err(`operator manifest ${manifest.source} → ${manifest.key}`);
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

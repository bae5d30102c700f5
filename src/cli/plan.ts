import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import { formatWarning } from '../config/warnings.js';
import { credentialWarnings } from '../falcon/credentials.js';
import { readPlan } from '../plan/plan.js';
import { renderPlan } from '../plan/render.js';
import { printJson, type Output } from '../shared/output.js';

export function registerPlan(program: Command, output: Output): void {
  program
    .command('plan')
    .description('Show what is deployed where: per feature the StackSets, targets, regions and resources')
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--json', 'print the plan as JSON')
    .option('--lambda-dir <dir>', 'directory with the built Lambda bundles', 'dist/lambda')
    .action(async (opts: { config: string; json?: boolean; lambdaDir: string }) => {
      const config = await loadConfigFile(opts.config);
      // Loaded on use: aws-cdk-lib and cdk-nag take most of a second to import, other commands skip them.
      const { synthesize } = await import('../infra/synth.js');
      const dir = mkdtempSync(join(tmpdir(), 'falcon-org-plan-'));
      try {
        output.err(`synthesizing ${config.resourcePrefix} to read the plan ...`);
        const result = synthesize(config, { outdir: dir, lambdaDir: opts.lambdaDir });
        const plan = readPlan(dir, result.rootTemplateFile, {
          name: result.rootStackName,
          homeRegion: config.aws.homeRegion,
        });
        const warnings = credentialWarnings(config);
        if (opts.json) printJson(output, { ...plan, warnings });
        else {
          output.out(renderPlan(plan));
          for (const w of warnings) output.err(formatWarning(w));
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
}

import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import { credentialWarnings } from '../falcon/credentials.js';
import { printJson, type Output } from './output.js';

export function registerValidate(program: Command, output: Output): void {
  program
    .command('validate')
    .description('Check a configuration file and report every problem at once')
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--json', 'print the resolved configuration as JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      const config = await loadConfigFile(opts.config);
      // Valid, but worth a second look: what would be copied where it can do more than needed.
      const warnings = credentialWarnings(config);
      if (opts.json) {
        printJson(output, { valid: true, warnings, config });
        return;
      }
      for (const w of warnings) output.err(`warning: ${w}`);
      const enabled = Object.entries(config.features)
        .filter(([, f]) => f.enabled)
        .map(([name]) => name);
      output.out(`${opts.config}: valid (features enabled: ${enabled.join(', ') || 'none'})`);
    });
}

import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import { configWarnings, formatWarning } from '../config/warnings.js';
import { credentialWarnings } from '../falcon/credentials.js';
import { printJson, type Output } from '../shared/output.js';

export function registerValidate(program: Command, output: Output): void {
  program
    .command('validate')
    .description('Check a configuration file and report every problem at once')
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--json', 'print the resolved configuration as JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      const config = await loadConfigFile(opts.config);
      // Valid, but probably not what is wanted (a retired document version, a client with more scopes
      // than a cluster needs copied into every cluster, …): told, never fatal.
      const warnings = [...configWarnings(config), ...credentialWarnings(config)];
      if (opts.json) {
        printJson(output, { valid: true, warnings, config });
        return;
      }
      for (const warning of warnings) output.err(formatWarning(warning));
      const enabled = Object.entries(config.features)
        .filter(([, f]) => f.enabled)
        .map(([name]) => name);
      output.out(`${opts.config}: valid (features enabled: ${enabled.join(', ') || 'none'})`);
    });
}

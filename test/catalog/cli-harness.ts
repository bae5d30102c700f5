import { Command, CommanderError } from 'commander';
import { registerCatalog, type CatalogWiring } from '../../src/cli/catalog.js';
import type { SourceFactory } from '../../src/cli/catalog-source.js';
import { describeFailure, ExitCode } from '../../src/cli/exit.js';
import type { Output } from '../../src/shared/output.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `falcon-org catalog …` in-process, the way src/cli/main.ts does, with an injected source factory. */
export async function runCatalog(
  argv: readonly string[],
  wiring?: SourceFactory | CatalogWiring,
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const output: Output = {
    out: (t) => (stdout += t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => (stderr += t.endsWith('\n') ? t : `${t}\n`),
    interactive: false,
  };
  const program = new Command('falcon-org')
    .exitOverride()
    .configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) });
  registerCatalog(program, output, typeof wiring === 'function' ? { createSource: wiring } : (wiring ?? {}));
  try {
    await program.parseAsync(['catalog', ...argv], { from: 'user' });
    return { code: ExitCode.Ok, stdout, stderr };
  } catch (error) {
    if (error instanceof CommanderError)
      return { code: error.exitCode === 0 ? 0 : ExitCode.InvalidInput, stdout, stderr };
    const { message, code } = describeFailure(error, false);
    output.err(`falcon-org: ${message}`);
    return { code, stdout, stderr };
  }
}

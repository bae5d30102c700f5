import { Command, CommanderError } from 'commander';
import { describeFailure, ExitCode } from './exit.js';
import { processOutput, type Output } from '../shared/output.js';
import { registerValidate } from './validate.js';
import { registerDeploy } from './deploy.js';
import { registerDestroy } from './destroy.js';
import { registerCatalog } from './catalog.js';
import { registerPlan } from './plan.js';
import { registerSynth } from './synth.js';
import { registerStatus } from './status.js';
import { registerEksDeployCluster } from './eks-deploy-cluster.js';
import { showEachWarningOnce } from './warnings.js';

/** Builds the program; each command lives in its own file and registers itself here. */
export function buildProgram(output: Output): Command {
  const program = new Command('falcon-org')
    .description('Protect an AWS Organization with CrowdStrike Falcon, and prove it')
    .option('--debug', 'show stack traces for unexpected errors')
    .exitOverride()
    .configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) });
  registerValidate(program, output);
  registerDeploy(program, output);
  registerDestroy(program, output);
  registerCatalog(program, output);
  registerPlan(program, output);
  registerSynth(program, output);
  registerStatus(program, output);
  registerEksDeployCluster(program, output);
  return program;
}

/** Runs the CLI and returns the exit code; never throws. */
export async function run(argv: readonly string[], output: Output = processOutput): Promise<number> {
  const program = buildProgram(output);
  const restoreWarnings = showEachWarningOnce();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version requests end with exit code 0 and have already been printed.
      if (error.exitCode === 0) return ExitCode.Ok;
      return ExitCode.InvalidInput;
    }
    const debug = program.opts<{ debug?: boolean }>().debug === true;
    const { message, code } = describeFailure(error, debug);
    output.err(`falcon-org: ${message}`);
    return code;
  } finally {
    restoreWarnings();
  }
}

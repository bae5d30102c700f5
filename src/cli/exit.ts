import { UserInputError } from '../config/errors.js';

/** Exit codes every command uses. */
export const ExitCode = { Ok: 0, Failure: 1, InvalidInput: 2, NotProtected: 3 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected result that ends the command with a given exit code (e.g. `status` finding gaps: 3). */
export class ExitStatus extends Error {
  constructor(
    message: string,
    readonly code: ExitCode,
  ) {
    super(message);
    this.name = 'ExitStatus';
  }
}

/** Maps an error to a message and exit code: expected errors get no stack trace. */
export function describeFailure(error: unknown, debug: boolean): { message: string; code: ExitCode } {
  if (error instanceof ExitStatus) return { message: error.message, code: error.code };
  if (error instanceof UserInputError) return { message: error.message, code: ExitCode.InvalidInput };
  if (error instanceof Error && error.name === 'CommanderError') {
    return { message: error.message, code: ExitCode.InvalidInput };
  }
  if (error instanceof Error) {
    const causes: string[] = [];
    let cause: unknown = error.cause;
    while (cause instanceof Error && causes.length < 5) {
      causes.push(`  caused by: ${cause.message}`);
      cause = cause.cause;
    }
    const text = debug && error.stack ? error.stack : [error.message, ...causes].join('\n');
    return { message: text, code: ExitCode.Failure };
  }
  return { message: String(error), code: ExitCode.Failure };
}

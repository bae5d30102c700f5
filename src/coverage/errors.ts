/** Base of every coverage error. */
export class CoverageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CoverageError';
  }
}

/** The request cannot be answered as asked (e.g. an `--account` not in scope): bad input. */
export class CoverageInputError extends CoverageError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CoverageInputError';
  }
}

/** The organization itself could not be read (no report can be made). */
export class CoverageScopeError extends CoverageError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CoverageScopeError';
  }
}

/** Short text of any thrown value, for reasons (error name and message, never a stack). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
    const cause = error.cause instanceof Error ? ` (${error.cause.name}: ${error.cause.message})` : '';
    return `${name}${error.message}${cause}`.slice(0, 500);
  }
  return String(error).slice(0, 500);
}

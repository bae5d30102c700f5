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

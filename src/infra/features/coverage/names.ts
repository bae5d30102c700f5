import type { ResolvedConfig } from '../../../config/load.js';

/** Names of the coverage pieces; the read role's is the same in every member account. */
export interface CoverageNames {
  readonly stackSet: string;
  /** The read-only role in every member account (fixed: the function builds its ARN per account). */
  readonly readRole: string;
  /** The `coverage` function in the home account (fixed, so an operator can invoke it by name). */
  readonly function: string;
}

export function coverageNames(config: ResolvedConfig): CoverageNames {
  const prefix = config.resourcePrefix;
  return {
    stackSet: `${prefix}-coverage-read`,
    readRole: `${prefix}-coverage-read`,
    function: `${prefix}-coverage`,
  };
}

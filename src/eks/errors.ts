import { UserInputError } from '../config/errors.js';

/** Base class for errors of the EKS discovery / events / runs-table area. */
export class EksError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EksError';
  }
}

/** The function's environment or settings are not usable; the message names the variable and the fix. */
export class EksSettingsError extends UserInputError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EksSettingsError';
  }
}

/** The runs table could not be read or written (other than a lost lock race, which is an answer). */
export class RunsTableError extends EksError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RunsTableError';
  }
}

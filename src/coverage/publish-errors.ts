import { CoverageError } from './errors.js';

/** Errors of publishing coverage reports (the scheduled function, S3, metrics, `--latest`). */
export class CoveragePublishError extends CoverageError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CoveragePublishError';
  }
}

/** No report has been stored yet, or the stored one cannot be read as a coverage report. */
export class LatestReportError extends CoveragePublishError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LatestReportError';
  }
}

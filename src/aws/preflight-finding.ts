/** What one pre-flight check found; every check (the deploy's own, the organization trail, Falcon's) reports in this shape. */

export type PreflightCheck =
  | 'credentials'
  | 'partition'
  | 'region'
  | 'bootstrap'
  | 'organization'
  | 'accountType'
  | 'trustedAccess'
  | 'distributorDocument'
  | 'organizationTrail'
  /** A Falcon API client: accepted by /oauth2/token, holding the read scopes its features need. */
  | 'falconClient';

/** Outcome of one check: `error` stops the deploy, `warning` could not be verified or looks odd. */
export type FindingSeverity = 'ok' | 'warning' | 'error';

export interface PreflightFinding {
  readonly check: PreflightCheck;
  readonly severity: FindingSeverity;
  readonly message: string;
}

import { UserInputError } from '../config/errors.js';
import type { PreflightFinding } from '../aws/preflight-finding.js';

/** Base class for failures of `deploy` / `destroy` that are not the user's input (exit code 1). */
export class DeployError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeployError';
  }
}

/** Falcon API credentials the configuration asks for are missing from the environment (exit code 2). */
export class MissingCredentialsError extends UserInputError {
  readonly variables: readonly string[];

  /** `setting`: the configuration setting whose client is missing (the shared one by default). */
  constructor(variables: readonly string[], setting = 'falcon.credentials') {
    super(
      `${setting}.source is "environment" but ${variables.join(' and ')} ${variables.length === 1 ? 'is' : 'are'} ` +
        'not set; export the Falcon API client ID and secret in these variables (they are passed to CloudFormation as ' +
        `NoEcho parameters and never written anywhere), or use ${setting}.source: secretsManager`,
    );
    this.name = 'MissingCredentialsError';
    this.variables = variables;
  }
}

/** Credentials hold characters CloudFormation would refuse; the values are never shown (exit code 2). */
export class UnusableCredentialsError extends UserInputError {
  constructor(variables: readonly string[]) {
    super(
      `${variables.join(' and ')} ${variables.length === 1 ? 'contains' : 'contain'} quotes, backslashes or control ` +
        'characters; Falcon API client IDs and secrets are letters and digits: check the exported value (it is not shown here)',
    );
    this.name = 'UnusableCredentialsError';
  }
}

/** The operator manifest's SHA-256 differs from the configured one; nothing was deployed (exit code 2). */
export class OperatorManifestChecksumError extends UserInputError {
  constructor(message: string) {
    super(message);
    this.name = 'OperatorManifestChecksumError';
  }
}

/** One or more pre-flight checks failed; nothing was changed (exit code 2). */
export class PreflightError extends UserInputError {
  readonly findings: readonly PreflightFinding[];

  constructor(findings: readonly PreflightFinding[]) {
    const errors = findings.filter((f) => f.severity === 'error');
    super(
      `pre-flight checks failed, nothing was changed:\n${errors.map((f) => `  - ${f.check}: ${f.message}`).join('\n')}`,
    );
    this.name = 'PreflightError';
    this.findings = findings;
  }
}

/** The user declined, or confirmation was needed but nobody could give it (exit code 2). */
export class NotConfirmedError extends UserInputError {
  constructor(message: string) {
    super(message);
    this.name = 'NotConfirmedError';
  }
}

/** The toolkit failed to deploy or destroy the root stack (exit code 1). */
export class ToolkitFailedError extends DeployError {
  constructor(action: 'deploy' | 'destroy', message: string, options?: ErrorOptions) {
    super(`${action} of the root stack failed: ${message}`, options);
    this.name = 'ToolkitFailedError';
  }
}

/** The root stack deployed but StackSet instances failed or did not finish (exit code 1). */
export class StackSetFailuresError extends DeployError {
  constructor(message: string) {
    super(message);
    this.name = 'StackSetFailuresError';
  }
}

/** The version of `falcon.credentials.secretArn` could not be read before deploying (exit code 2). */
export class SecretVersionError extends UserInputError {
  constructor(secretArn: string, reason: string, options?: ErrorOptions & { setting?: string }) {
    super(
      `${options?.setting ?? 'falcon.credentials'}.secretArn: could not read the current version of ${secretArn} (${reason}); deploy ` +
        'pins the credentials to it so a rotation reaches where they are copied: check the ARN and allow ' +
        'secretsmanager:DescribeSecret on it for the deploying credentials',
      options,
    );
    this.name = 'SecretVersionError';
  }
}

import { UserInputError } from '../config/errors.js';

/** Base class for failures while building or synthesizing the CDK app that are not the user's to fix. */
export class InfraError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InfraError';
  }
}

/** A feature needs a Lambda bundle that has not been built. */
export class MissingLambdaBundleError extends UserInputError {
  readonly bundle: string;

  constructor(bundle: string, path: string, options?: ErrorOptions) {
    super(`the Lambda bundle "${bundle}" is missing (expected ${path}); run "npm run build" first`, options);
    this.name = 'MissingLambdaBundleError';
    this.bundle = bundle;
  }
}

/** EKS Protection needs the deployer bundle (the program its CodeBuild runs execute) and it has not been built. */
export class MissingDeployerBundleError extends UserInputError {
  constructor(path: string, options?: ErrorOptions) {
    super(
      `the EKS deployer bundle is missing (expected ${path}); run "npm run build" first, or disable features.eksProtection`,
      options,
    );
    this.name = 'MissingDeployerBundleError';
  }
}

/** A staging directory was given without the pinned version's operator manifest in it. */
export class MissingOperatorManifestError extends UserInputError {
  constructor(path: string, options?: ErrorOptions) {
    super(
      `the staged Falcon Operator manifest is missing (expected ${path}); stage it with "deploy" (or "synth --operator-manifest FILE") for features.eksProtection.deployer.operator.version`,
      options,
    );
    this.name = 'MissingOperatorManifestError';
  }
}

/** cdk-nag or CDK reported errors while synthesizing: a defect in the constructs, not in the input. */
export class SynthesisError extends InfraError {
  readonly findings: readonly string[];

  constructor(findings: readonly string[], options?: ErrorOptions) {
    super(
      `synthesis reported ${findings.length} error(s):\n${findings.map((f) => `  - ${f}`).join('\n')}`,
      options,
    );
    this.name = 'SynthesisError';
    this.findings = findings;
  }
}

import type { ParsedConfig } from '../config/schema.js';

/*
 * What the constructs write into the synthesized templates so that `plan` can read the solution
 * back from exactly what `synth` produced (plan never drifts from synth).
 */

/** Template Metadata key on each `AWS::CloudFormation::StackSet` resource. */
export const STACKSET_METADATA_KEY = 'FalconOrg::StackSet';
/** Top-level template Metadata key of the root stack. */
export const ROOT_METADATA_KEY = 'FalconOrg';

export type FeatureName = keyof ParsedConfig['features'];
export const FEATURE_NAMES: readonly FeatureName[] = ['ssmDistributor', 'eksProtection', 'ecrConnections'];

/** Where one stack instance lives: once per account (home region) or once per account and region. */
export type StackSetScope = 'account' | 'account-region';

export const NOT_IMPLEMENTED = 'not implemented in this version';
export type FeatureStatus = 'deployed' | 'disabled' | typeof NOT_IMPLEMENTED;

/**
 * What a StackSet belongs to: a feature, the coverage report (which reports on the features), or
 * the registry catalog's ECR events.
 */
export type StackSetOwner = FeatureName | 'coverage' | 'catalog';

/** Owners that are not features, listed after them in the plan when they deploy something. */
export const EXTRA_OWNERS: readonly Exclude<StackSetOwner, FeatureName>[] = ['coverage', 'catalog'];

export interface StackSetMetadata {
  readonly feature: StackSetOwner;
  readonly scope: StackSetScope;
  readonly regions: readonly string[];
  /** File name of the member template, relative to the cloud assembly directory. */
  readonly templateFile: string;
  readonly description: string;
}

/** Top-level template Metadata key of the root stack holding each feature's plan notes. */
export const PLAN_NOTES_METADATA_KEY = 'FalconOrg::PlanNotes';
/** Sentences `plan` prints under a feature (or other owner), beyond what the resources say. */
export type PlanNotesMetadata = Partial<Record<StackSetOwner, readonly string[]>>;

export interface RootMetadata {
  readonly features: Readonly<Record<FeatureName, FeatureStatus>>;
}

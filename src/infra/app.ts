import * as cdk from 'aws-cdk-lib';
import type { ResolvedConfig } from '../config/load.js';
import { DEFAULT_LAMBDA_DIR, FalconOrganization } from './falcon-organization.js';
import { applyPermissionsBoundary } from './permissions-boundary.js';
import { TagRawResources } from './tag-everything.js';
import { FalconOrgNagChecks } from './nag.js';
import { rootStackName } from '../config/names.js';

export interface BuildAppOptions {
  /** Cloud assembly directory. @default - a temporary directory chosen by CDK */
  readonly outdir?: string;
  /** Directory with `<name>/index.mjs` Lambda bundles. @default 'dist/lambda' */
  readonly lambdaDir?: string;
  /** Synthesize the pre-delete template of `destroy --purge`. @default false */
  readonly purgeOnDelete?: boolean;
  /** The version of `falcon.credentials.secretArn` to read; `deploy` passes AWSCURRENT's. @default - unpinned */
  readonly credentialsVersionId?: string;
  /** The versions of the features' own client secrets, by ARN; `deploy` passes AWSCURRENT's. @default - unpinned */
  readonly clientVersionIds?: Readonly<Record<string, string>>;
  /** Where `deploy` staged the checked operator manifest, uploaded to `operatorManifestKey`. @default - none */
  readonly operatorManifestDir?: string;
}

export interface BuiltApp {
  readonly app: cdk.App;
  readonly rootStack: cdk.Stack;
  readonly organization: FalconOrganization;
}

export { rootStackName } from '../config/names.js';

/**
 * Builds the CDK app: one root stack in the home region (account left to deploy time, so synth
 * needs no credentials) holding `FalconOrganization`, the configured tags on every resource, the
 * permissions boundary on every role and cdk-nag's AwsSolutions checks. Throws `MissingLambdaBundleError` when a feature needs a bundle
 * that has not been built.
 */
export function buildApp(config: ResolvedConfig, options: BuildAppOptions = {}): BuiltApp {
  const app = new cdk.App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    autoSynth: false,
    analyticsReporting: false,
  });
  const rootStack = new cdk.Stack(app, rootStackName(config), {
    stackName: rootStackName(config),
    env: { region: config.aws.homeRegion },
    description: 'falcon-org: CrowdStrike Falcon for the AWS Organization (root stack)',
    analyticsReporting: false,
  });
  const organization = new FalconOrganization(rootStack, 'FalconOrganization', {
    config,
    lambdaDir: options.lambdaDir ?? DEFAULT_LAMBDA_DIR,
    ...(options.purgeOnDelete ? { purgeOnDelete: true } : {}),
    ...(options.credentialsVersionId ? { credentialsVersionId: options.credentialsVersionId } : {}),
    ...(options.clientVersionIds ? { clientVersionIds: options.clientVersionIds } : {}),
    ...(options.operatorManifestDir ? { operatorManifestDir: options.operatorManifestDir } : {}),
  });
  for (const [key, value] of Object.entries(config.tags)) cdk.Tags.of(app).add(key, value);
  cdk.Aspects.of(app).add(new TagRawResources(config.tags));
  // Also reaches the roles of CDK's own providers (bucket auto-delete and bucket deployment).
  applyPermissionsBoundary(rootStack, config.permissionsBoundary);
  cdk.Validations.of(app).addPlugins(new FalconOrgNagChecks(app));
  return { app, rootStack, organization };
}

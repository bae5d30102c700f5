import type { IIoHost } from '@aws-cdk/toolkit-lib';
import type { App, Stack } from 'aws-cdk-lib';
import type { ResolvedConfig } from '../config/load.js';

/** What a deploy decides about the app at deploy time (see `BuildAppOptions` in src/infra/app.ts). */
export interface DeployTimeAppOptions {
  /** The AWSCURRENT version of `falcon.credentials.secretArn`, so a rotation changes the template. */
  readonly credentialsVersionId?: string;
  /** The AWSCURRENT versions of the features' own client secrets, by ARN (`falcon.clients.<feature>`). */
  readonly clientVersionIds?: Readonly<Record<string, string>>;
  /** The pre-delete template of `destroy --purge`. */
  readonly purgeOnDelete?: boolean;
  /** Where `deploy` staged the checked operator manifest (EKS protection), for the artifact bucket. */
  readonly operatorManifestDir?: string;
}

/** The shape of `buildApp` in src/infra/app.ts, injected so tests can use a stand-in app. */
export type AppFactory = (
  config: ResolvedConfig,
  options: { outdir?: string; lambdaDir?: string } & DeployTimeAppOptions,
) => { app: App; rootStack: Stack };

/** What the command needs to know about the root stack before anything is deployed. */
export interface RootStackInfo {
  readonly stackName: string;
  /** Construct path, which the toolkit selects stacks by. */
  readonly hierarchicalId: string;
  /** Concrete region/account when the app pins them; undefined when environment-agnostic. */
  readonly region?: string;
  readonly account?: string;
  /** Names of the root stack's template parameters. */
  readonly parameterNames: readonly string[];
}

export interface DeployRequest {
  readonly config: ResolvedConfig;
  readonly root: RootStackInfo;
  /** Root stack parameters, handed to CloudFormation as parameters (never argv, env dumps or files). */
  readonly parameters: Readonly<Record<string, string>>;
  readonly ioHost: IIoHost;
  /** Removes secret values from any text the deployer puts into an error. */
  readonly scrub: (text: string) => string;
  /** Passed to the app factory when the deployer synthesizes. @default {} */
  readonly appOptions?: DeployTimeAppOptions;
  /** Keep the deployed stack's parameter values (`parameters` must then be empty). @default false */
  readonly keepExistingParameters?: boolean;
}

export interface DestroyRequest {
  readonly config: ResolvedConfig;
  readonly root: RootStackInfo;
  readonly ioHost: IIoHost;
  readonly scrub: (text: string) => string;
}

export interface DeployOutcome {
  readonly stackName: string;
  readonly stackArn?: string;
  readonly account: string;
  readonly region: string;
  readonly outputs: Readonly<Record<string, string>>;
}

export interface DestroyOutcome {
  readonly stackName: string;
  readonly existed: boolean;
}

/**
 * Deploys and destroys the root stack. The real implementation wraps @aws-cdk/toolkit-lib
 * (see toolkit-deployer.ts); tests use a recording fake.
 */
export interface Deployer {
  describeRoot(config: ResolvedConfig): RootStackInfo;
  deploy(request: DeployRequest): Promise<DeployOutcome>;
  destroy(request: DestroyRequest): Promise<DestroyOutcome>;
}

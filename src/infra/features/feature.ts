import type { Construct } from 'constructs';
import type { ResolvedConfig } from '../../config/load.js';
import type { ArtifactBucket } from '../artifact-bucket.js';
import type { FalconClientFeature } from '../../config/falcon-scopes.js';
import type { FalconCredentials } from '../credentials.js';

/** What every feature construct gets from `FalconOrganization`. */
export interface FeatureContext {
  readonly config: ResolvedConfig;
  /** Org-readable Lambda code: `artifacts.codeFor('<bundle>')` gives `{ bucketName, key }`. */
  readonly artifacts: ArtifactBucket;
  /**
   * The Falcon API client a feature uses: its own (`falcon.clients.<feature>`) or the shared one
   * (`falcon.credentials`). Created on first use, so features that need none add no parameters.
   */
  credentialsFor(feature: FalconClientFeature): FalconCredentials;
  /**
   * True only in the template `falcon-org destroy --purge` deploys just before deleting: features
   * that normally retain per-account leftovers (ownership records, log groups) pass it to their
   * custom resources so the Delete that follows removes those too. @default false
   */
  readonly purgeOnDelete?: boolean;
}

/** Creates one feature's constructs (usually one or more `OrgStackSet`s) under `scope`. */
export type FeatureFactory = (scope: Construct, context: FeatureContext) => Construct;

import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ResolvedConfig } from '../config/load.js';
import { ArtifactBucket } from './artifact-bucket.js';
import { resolveFalconClient } from '../falcon/credentials.js';
import type { FalconClientFeature } from '../config/falcon-scopes.js';
import { FalconCredentials } from './credentials.js';
import { CatalogEvents } from './features/catalog-events.js';
import { addDeadLetterAlarms } from './dead-letter-alarms.js';
import { deployMembersToManagementAccount } from './management-account.js';
import { ROOT_STACK_OUTPUTS } from '../config/names.js';
import { Coverage } from './features/coverage.js';
import { EksProtection } from './features/eks-protection.js';
import type { FeatureContext } from './features/feature.js';
import { FEATURE_FACTORIES } from './features/registry.js';
import {
  FEATURE_NAMES,
  NOT_IMPLEMENTED,
  ROOT_METADATA_KEY,
  type FeatureName,
  type FeatureStatus,
  type RootMetadata,
} from './metadata.js';

/** Default location of the Lambda bundles `npm run build` writes. */
export const DEFAULT_LAMBDA_DIR = 'dist/lambda';

export interface FalconOrganizationProps {
  /** The validated configuration (`loadConfigFile`). */
  readonly config: ResolvedConfig;
  /** Directory with `<name>/index.mjs` Lambda bundles. @default 'dist/lambda' */
  readonly lambdaDir?: string;
  /** Synthesize the pre-delete template of `destroy --purge` (see `FeatureContext.purgeOnDelete`). @default false */
  readonly purgeOnDelete?: boolean;
  /** The version of `falcon.credentials.secretArn` to read (see `FalconCredentialsProps.secretVersionId`). */
  readonly credentialsVersionId?: string;
  /** The versions of the features' own client secrets to read, by secret ARN (`falcon.clients.<feature>.secretArn`). */
  readonly clientVersionIds?: Readonly<Record<string, string>>;
  /** Where `deploy` staged the checked operator manifest (see `ArtifactBucketProps.operatorManifestDir`). */
  readonly operatorManifestDir?: string;
}

/**
 * The whole solution in one construct: the org-readable artifact bucket, the central Falcon
 * secret (created when a feature needs it) and one construct per enabled feature, each rolling
 * itself out through StackSets. Place it in a stack in the home account and region.
 *
 * @example
 * const stack = new cdk.Stack(app, 'falcon-org', { env: { region: config.aws.homeRegion } });
 * new FalconOrganization(stack, 'FalconOrganization', { config });
 */
export class FalconOrganization extends Construct implements FeatureContext {
  readonly config: ResolvedConfig;
  readonly artifacts: ArtifactBucket;
  readonly purgeOnDelete: boolean;
  /** What happened to each feature: deployed, disabled, or not implemented in this version. */
  readonly featureStatus: Readonly<Record<FeatureName, FeatureStatus>>;
  /** One construct per distinct client (features sharing a client share it). */
  private readonly clients = new Map<string, FalconCredentials>();
  private readonly credentialsVersionId: string | undefined;
  private readonly clientVersionIds: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: FalconOrganizationProps) {
    super(scope, id);
    this.config = props.config;
    this.purgeOnDelete = props.purgeOnDelete ?? false;
    this.credentialsVersionId = props.credentialsVersionId;
    this.clientVersionIds = props.clientVersionIds ?? {};
    this.artifacts = new ArtifactBucket(this, 'Artifacts', {
      organizationId: props.config.organization.id,
      lambdaDir: props.lambdaDir ?? DEFAULT_LAMBDA_DIR,
      ...(props.operatorManifestDir !== undefined ? { operatorManifestDir: props.operatorManifestDir } : {}),
    });
    const status = {} as Record<FeatureName, FeatureStatus>;
    for (const name of FEATURE_NAMES) {
      const factory = FEATURE_FACTORIES[name];
      if (!props.config.features[name].enabled) status[name] = 'disabled';
      else if (!factory) {
        status[name] = NOT_IMPLEMENTED;
        cdk.Annotations.of(this).addWarningV2(
          `falcon-org:${name}`,
          `${name} is enabled but ${NOT_IMPLEMENTED}; nothing is deployed for it`,
        );
      } else {
        factory(this, this);
        status[name] = 'deployed';
      }
    }
    this.featureStatus = status;
    // The coverage report is not a feature: it reports on them, in the home account and every member.
    if (props.config.coverage.enabled) new Coverage(this, 'Coverage', this);
    const eks = this.node.tryFindChild('EksProtection');
    // The catalog's ECR events ride on EKS Protection's central bus (the configuration requires it).
    if (props.config.catalog.ecrEvents.enabled && eks instanceof EksProtection) {
      new CatalogEvents(this, 'CatalogEvents', { context: this, bus: eks.bus });
    }
    // Service-managed StackSets never deploy to the management account: when the root stack is in it and
    // the root is targeted, it deploys every feature's member resources there itself (after every
    // StackSet exists, the catalog's too).
    deployMembersToManagementAccount(this, props.config, this.artifacts.bucket);
    // After every queue exists: the catalog's dead-letter queue gets its alarm too.
    addDeadLetterAlarms(this, props.config.alarms.topicArn);
    // What `status` reads back to find the runs table without being told.
    if (eks instanceof EksProtection) {
      new cdk.CfnOutput(this, 'RunsTableOutput', {
        key: ROOT_STACK_OUTPUTS.runsTable,
        description: 'The EKS runs table (falcon-org status reads cluster run results from it)',
        value: eks.runsTable.table.tableName,
      });
    }
    const stack = cdk.Stack.of(this);
    const metadata: RootMetadata = { features: status };
    stack.templateOptions.metadata = { ...stack.templateOptions.metadata, [ROOT_METADATA_KEY]: metadata };
  }

  credentialsFor(feature: FalconClientFeature): FalconCredentials {
    const client = resolveFalconClient(this.config.falcon, feature);
    let credentials = this.clients.get(client.key);
    if (credentials === undefined) {
      const versionId = client.shared
        ? this.credentialsVersionId
        : client.secretArn !== undefined
          ? this.clientVersionIds[client.secretArn]
          : undefined;
      // The shared client keeps its construct ID, so existing deployments keep their secret.
      credentials = new FalconCredentials(this, client.shared ? 'Credentials' : `Credentials-${feature}`, {
        config: this.config,
        client,
        ...(versionId ? { secretVersionId: versionId } : {}),
      });
      this.clients.set(client.key, credentials);
    }
    return credentials;
  }
}

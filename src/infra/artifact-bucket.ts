import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import {
  MissingDeployerBundleError,
  MissingLambdaBundleError,
  MissingOperatorManifestError,
} from './errors.js';
import { acknowledge } from './nag.js';

export interface ArtifactBucketProps {
  /** Only principals of this organization may read (`aws:PrincipalOrgID`). */
  readonly organizationId: string;
  /** Directory holding `<name>/index.mjs` bundles (`npm run build` writes dist/lambda). */
  readonly lambdaDir: string;
  /**
   * Directory holding the EKS deployer bundle `index.mjs`.
   * @default - `deployer` next to `lambdaDir` (dist/lambda → dist/deployer)
   */
  readonly deployerDir?: string;
  /**
   * Where `deploy` staged the checked operator manifest: `<dir>/operator/<version>/falcon-operator.yaml`
   * (`stageManifestForBuild` in src/deploy/operator-manifest.ts). Uploaded by {@link ArtifactBucket.operatorManifest}.
   * @default - none staged: the template uploads no manifest (synth without a local copy)
   */
  readonly operatorManifestDir?: string;
}

/** Key prefix of everything the EKS deployer's CodeBuild runs read: its bundle, and the operator manifest `deploy` uploads. */
export const DEPLOYER_PREFIX = 'deployer/';

/** Where `deploy` puts the checked Falcon Operator manifest of a pinned release, for the deployer to read. */
export function operatorManifestKey(version: string): string {
  return `${DEPLOYER_PREFIX}operator/${version}/falcon-operator.yaml`;
}

/** Where a Lambda bundle lives once deployed; both values are tokens of the root stack. */
export interface LambdaCodeLocation {
  readonly bucketName: string;
  /** Changes whenever the bundle's content changes, so StackSets that pass it on get updated. */
  readonly key: string;
}

/**
 * The home-region bucket that member accounts read Lambda code from: organization principals
 * only, TLS only, versioned, S3-managed encryption, no public access. Bundles are uploaded on
 * deploy by a `BucketDeployment` per bundle (zip kept as is), requested through {@link codeFor}.
 *
 * Lambda reads code from a bucket in its own region, so member functions built from this bucket
 * must live in the home region (per-account StackSets).
 */
export class ArtifactBucket extends Construct {
  readonly bucket: s3.Bucket;
  private readonly lambdaDir: string;
  private readonly deployerDir: string;
  private readonly operatorManifestDir: string | undefined;
  private deployer?: LambdaCodeLocation;
  private handlerAcknowledged = false;
  private readonly locations = new Map<string, LambdaCodeLocation>();

  constructor(scope: Construct, id: string, props: ArtifactBucketProps) {
    super(scope, id);
    this.lambdaDir = resolve(props.lambdaDir);
    this.deployerDir = resolve(props.deployerDir ?? join(dirname(this.lambdaDir), 'deployer'));
    this.operatorManifestDir =
      props.operatorManifestDir !== undefined ? resolve(props.operatorManifestDir) : undefined;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OrganizationPrincipalsReadArtifacts',
        effect: iam.Effect.ALLOW,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
      }),
    );
    acknowledge(this.bucket, {
      id: 'AwsSolutions-S1',
      reason:
        'Holds only build artifacts (Lambda bundles) that are public-equivalent code; reads are restricted to the organization and auditable with CloudTrail data events, so a separate access-log bucket adds cost without value.',
    });
  }

  /**
   * Requests the bundle `<lambdaDir>/<name>` in the bucket and returns where it will be.
   * Throws {@link MissingLambdaBundleError} when the bundle has not been built.
   */
  codeFor(name: string): LambdaCodeLocation {
    const known = this.locations.get(name);
    if (known) return known;
    const dir = join(this.lambdaDir, name);
    if (!existsSync(join(dir, 'index.mjs')) && !existsSync(join(dir, 'index.js'))) {
      throw new MissingLambdaBundleError(name, join(dir, 'index.mjs'));
    }
    const location = this.upload(`Deploy-${name}`, dir, `lambda/${name}/`);
    this.locations.set(name, location);
    return location;
  }

  /**
   * Requests the EKS deployer bundle (`<deployerDir>/index.mjs` and whatever lies next to it) as one
   * zip under {@link DEPLOYER_PREFIX}: the form a CodeBuild S3 source takes. Throws
   * {@link MissingDeployerBundleError} when it has not been built.
   */
  deployerBundle(): LambdaCodeLocation {
    if (this.deployer) return this.deployer;
    if (!existsSync(join(this.deployerDir, 'index.mjs'))) {
      throw new MissingDeployerBundleError(join(this.deployerDir, 'index.mjs'));
    }
    this.deployer = this.upload('DeployEksDeployer', this.deployerDir, `${DEPLOYER_PREFIX}bundle/`);
    return this.deployer;
  }

  /**
   * Uploads the staged operator manifest of `version` to exactly {@link operatorManifestKey}, where
   * the deployer reads it. Returns that key, or undefined when nothing was staged (then the template
   * uploads no manifest; `deploy` always stages one). Throws {@link MissingOperatorManifestError}
   * when a staging directory was given without that version's file.
   */
  operatorManifest(version: string): string | undefined {
    if (this.operatorManifestDir === undefined) return undefined;
    const key = operatorManifestKey(version);
    const file = join(this.operatorManifestDir, key.slice(DEPLOYER_PREFIX.length));
    if (!existsSync(file)) throw new MissingOperatorManifestError(file);
    new s3deploy.BucketDeployment(this, 'DeployOperatorManifest', {
      destinationBucket: this.bucket,
      destinationKeyPrefix: `${dirname(key)}/`,
      // The asset is the version's directory, which holds only falcon-operator.yaml.
      sources: [s3deploy.Source.asset(dirname(file))],
      prune: false,
      // Kept when a later template lacks it (`destroy --purge`'s update); the bucket empties on delete.
      retainOnDelete: true,
    });
    this.acknowledgeDeploymentHandler();
    return key;
  }

  private upload(id: string, dir: string, prefix: string): LambdaCodeLocation {
    const deployment = new s3deploy.BucketDeployment(this, id, {
      destinationBucket: this.bucket,
      destinationKeyPrefix: prefix,
      sources: [s3deploy.Source.asset(dir)],
      extract: false,
      // Keep earlier versions: StackSet instances still on the old key keep working until updated.
      prune: false,
      retainOnDelete: false,
    });
    this.acknowledgeDeploymentHandler();
    // `objectKeys` are the source keys (`<hash>.zip`); with extract off the handler copies each zip
    // to `<destinationKeyPrefix><source key>`, so the object Lambda must read carries the prefix.
    const key = cdk.Fn.join('', [prefix, cdk.Fn.select(0, deployment.objectKeys)]);
    return { bucketName: this.bucket.bucketName, key };
  }

  /** Acknowledges, with reasons, what cdk-nag finds in CDK's own upload handler (shared by every deployment). */
  private acknowledgeDeploymentHandler(): void {
    if (this.handlerAcknowledged) return;
    const stack = cdk.Stack.of(this);
    const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!handler) return;
    this.handlerAcknowledged = true;
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    const wildcard = (finding: string) => ({
      id: `AwsSolutions-IAM5[${finding}]`,
      reason:
        "CDK's BucketDeployment handler copies the bundle from the CDK asset bucket into the artifact bucket; CDK's grantReadWrite scopes it to those two buckets' objects.",
    });
    acknowledge(
      handler,
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "CDK's BucketDeployment handler only needs to write its own logs.",
      },
      {
        id: 'AwsSolutions-L1',
        reason: "The runtime of CDK's BucketDeployment handler is chosen and kept current by aws-cdk-lib.",
      },
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((a) =>
        wildcard(`Action::${a}`),
      ),
      wildcard(`Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${stack.region}/*`),
      wildcard(`Resource::<${bucketId}.Arn>/*`),
    );
  }
}

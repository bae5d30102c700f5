import * as cdk from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { buildTimeoutMinutes, DEPLOYER_QUEUED_TIMEOUT_MINUTES } from '../../../config/eks-run-budget.js';
import { PROJECT_ENV } from '../../../eks/run-contract.js';
import { DEPLOYER_PREFIX, type LambdaCodeLocation } from '../../artifact-bucket.js';
import { FUNCTION_LOG_RETENTION, ownLogStatements } from '../../function-builder.js';
import { acknowledge } from '../../nag.js';
import { assumeExecutionRoleStatement } from './execution-role.js';

/** The one command a deployer run executes: the bundled program, with `node` and nothing else. */
export const DEPLOYER_COMMAND = 'node index.mjs';
/** Node.js major version the deployer bundle is built for (CodeBuild `runtime-versions`). */
export const DEPLOYER_NODE_VERSION = 20;

export interface DeployerProjectProps {
  readonly projectName: string;
  /** Fixed role name: the member execution role trusts this role by its exact ARN. */
  readonly roleName: string;
  readonly artifactsBucket: s3.IBucket;
  readonly bundle: LambdaCodeLocation;
  /** The central Falcon secret (keys ClientId, ClientSecret), referenced, never copied. */
  readonly falconSecret: secretsmanager.ISecret;
  readonly runsTableName: string;
  readonly runsTableArn: string;
  /** JSON of the deployer's non-secret settings (`DeployerRunSettings`). */
  readonly settingsJson: string;
  /** Name of the member execution role (the same in every account) the deployer assumes. */
  readonly executionRoleName: string;
  /** The organization: the execution role is assumed only in its accounts. */
  readonly organizationId: string;
  /** The run lock's lifetime: a build never outlives it, queue time included. */
  readonly lockTtlMinutes: number;
  /** Keep the log group when the stack is deleted (default) or remove it (`destroy --purge`). */
  readonly logRemovalPolicy: cdk.RemovalPolicy;
  /** ECR repositories (home account) the deployer mirrors Falcon images into, when mirroring is on. */
  readonly mirrorRepositoryPrefix?: string;
}

/**
 * The deployer's CodeBuild project in the home region. Its source is the deployer bundle (a zip in
 * the artifact bucket), its buildspec runs only `node index.mjs`, its Falcon credentials are
 * Secrets Manager references resolved by CodeBuild at run time (never plaintext variables), and its
 * role may do exactly what a run does. Runs are started by `eks-discover` and `eks-event` with
 * per-cluster environment overrides (`RUN_ENV`).
 */
export class DeployerProject extends Construct {
  readonly project: codebuild.Project;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: DeployerProjectProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: FUNCTION_LOG_RETENTION,
      removalPolicy: props.logRemovalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: 'falcon-org EKS Protection: the deployer CodeBuild project',
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      inlinePolicies: {
        Deployer: new iam.PolicyDocument({ statements: deployerStatements(props, this.logGroup) }),
      },
    });
    const secretRef = (key: string) => `${props.falconSecret.secretArn}:${key}`;
    this.project = new codebuild.Project(this, 'Project', {
      projectName: props.projectName,
      description: 'falcon-org EKS Protection: puts the Falcon Operator and sensors on one cluster per run',
      role: this.role.withoutPolicyUpdates(),
      source: codebuild.Source.s3({ bucket: props.artifactsBucket, path: props.bundle.key }),
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        phases: {
          install: { 'runtime-versions': { nodejs: DEPLOYER_NODE_VERSION } },
          build: { commands: [DEPLOYER_COMMAND] },
        },
      }),
      environment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        computeType: codebuild.ComputeType.SMALL,
        privileged: false,
        environmentVariables: {
          [PROJECT_ENV.runsTable]: { value: props.runsTableName },
          [PROJECT_ENV.settings]: { value: props.settingsJson },
          [PROJECT_ENV.clientId]: {
            type: codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER,
            value: secretRef('ClientId'),
          },
          [PROJECT_ENV.clientSecret]: {
            type: codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER,
            value: secretRef('ClientSecret'),
          },
        },
      },
      timeout: cdk.Duration.minutes(buildTimeoutMinutes(props.lockTtlMinutes)),
      queuedTimeout: cdk.Duration.minutes(DEPLOYER_QUEUED_TIMEOUT_MINUTES),
      logging: { cloudWatch: { logGroup: this.logGroup } },
    });
    acknowledge(this.project, {
      id: 'AwsSolutions-CB4',
      reason:
        'The project produces no artifacts and caches nothing; its only output is its log (CloudWatch Logs) and the runs table, so a customer managed key would protect nothing CodeBuild stores.',
    });
    acknowledgeWildcards(this.role, props);
  }
}

function deployerStatements(props: DeployerProjectProps, logGroup: logs.ILogGroup): iam.PolicyStatement[] {
  const statements = [
    assumeExecutionRoleStatement(props.executionRoleName, props.organizationId),
    new iam.PolicyStatement({
      sid: 'WriteRunResult',
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: [props.runsTableArn],
    }),
    new iam.PolicyStatement({
      sid: 'ReadBundleAndManifest',
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [props.artifactsBucket.arnForObjects(`${DEPLOYER_PREFIX}*`)],
    }),
    new iam.PolicyStatement({
      sid: 'LocateArtifactsBucket',
      actions: ['s3:GetBucketAcl', 's3:GetBucketLocation'],
      resources: [props.artifactsBucket.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'ReadFalconCredentials',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [props.falconSecret.secretArn],
    }),
    ...ownLogStatements(logGroup),
  ];
  if (props.mirrorRepositoryPrefix !== undefined) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'LogInToHomeRegistry',
        actions: ['ecr:GetAuthorizationToken'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'MirrorFalconImages',
        actions: [
          'ecr:CreateRepository',
          'ecr:DescribeRepositories',
          'ecr:SetRepositoryPolicy',
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:GetDownloadUrlForLayer',
          'ecr:InitiateLayerUpload',
          'ecr:UploadLayerPart',
          'ecr:CompleteLayerUpload',
          'ecr:PutImage',
        ],
        resources: [
          `arn:${cdk.Aws.PARTITION}:ecr:${cdk.Aws.REGION}:${cdk.Aws.ACCOUNT_ID}:repository/${props.mirrorRepositoryPrefix}/*`,
        ],
      }),
    );
  }
  return statements;
}

function acknowledgeWildcards(role: iam.Role, props: DeployerProjectProps): void {
  const stack = cdk.Stack.of(role);
  const bucketId = stack.getLogicalId(props.artifactsBucket.node.defaultChild as cdk.CfnElement);
  acknowledge(
    role,
    {
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${DEPLOYER_PREFIX}*]`,
      reason:
        'The deployer reads its bundle and the pinned operator manifest, both under the deployer/ prefix of the artifact bucket, whose keys carry content hashes and versions.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${props.executionRoleName}]`,
      reason:
        "A run works in the cluster's member account, found at run time: it may assume the EKS execution role of that name in any account of the organization (aws:ResourceOrgID), and the role's own trust policy admits only this project's role.",
    },
  );
  if (props.mirrorRepositoryPrefix !== undefined) {
    acknowledge(
      role,
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken is only authorized on "*"; it is the only action with this resource.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/${props.mirrorRepositoryPrefix}/*]`,
        reason:
          'Mirrored Falcon images go to repositories under the configured prefix in the home account, one per image, created on first use.',
      },
    );
  }
}

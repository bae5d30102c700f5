import { createHash } from 'node:crypto';
import * as cdk from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deployerRunSettingsFromConfig } from '../../cluster/settings.js';
import type { ResolvedConfig } from '../../config/load.js';
import { EKS_FUNCTION_ENV } from '../../eks/run-contract.js';
import { REPORT_KEYS } from '../../coverage/publish.js';
import { operatorManifestKey } from '../artifact-bucket.js';
import { acknowledge, logicalIdOf } from '../nag.js';
import { memberParameter, OrgStackSet } from '../org-stackset.js';
import { addPlanNote } from '../plan-notes.js';
import { CLUSTER_EVENT_PATTERN } from './eks/cluster-events.js';
import { DeployerProject } from './eks/deployer-project.js';
import { EksFunction } from './eks/eks-function.js';
import { CentralBus } from './eks/event-bus.js';
import { ExecutionRole } from './eks/execution-role.js';
import { ForwardingRule } from './eks/forwarding-rule.js';
import { eksFunctionSettings } from './eks/function-settings.js';
import { eksNames, type EksNames } from '../../config/names.js';
import { eventBusArn, roleArn } from './eks/names.js';
import { OrganizationTrail } from './eks/organization-trail.js';
import { encryptedQueue } from './eks/queues.js';
import { RunsTable } from './eks/runs-table.js';
import { startDeployerRunStatements } from './eks/start-build-policy.js';
import { assumeExecutionRoleStatement } from './eks/execution-role.js';
import type { FeatureContext } from './feature.js';

/** The Lambda bundles (`dist/lambda/<name>/index.mjs`) the feature runs in the home account. */
export const EKS_DISCOVER_BUNDLE = 'eks-discover';
export const EKS_EVENT_BUNDLE = 'eks-event';
/** CloudFormation type of the custom resource that runs discovery when the stack is deployed. */
export const EKS_DISCOVERY_RESOURCE_TYPE = 'Custom::FalconEksDiscovery';
/** Member template parameter: the home account, whose roles and bus the member pieces name. */
export const EKS_MEMBER_PARAMETERS = { homeAccountId: 'HomeAccountId' } as const;

/** Function settings; discovery gets Lambda's longest timeout and spreads the rest over its queue. */
export const EKS_DISCOVER_TIMEOUT = cdk.Duration.minutes(15);
export const EKS_EVENT_TIMEOUT = cdk.Duration.minutes(1);
/** Attempts EventBridge makes to hand a cluster event to `eks-event` before it goes to the DLQ. */
export const EKS_EVENT_RETRY_ATTEMPTS = 8;
/** Deliveries of one discovery work message before it goes to the discovery DLQ. */
export const DISCOVERY_MAX_RECEIVE_COUNT = 3;
/** Discovery invocations working through the queue at once (SQS event source maximum concurrency). */
export const DISCOVERY_QUEUE_CONCURRENCY = 10;

/**
 * EKS Protection: finds every cluster of the organization, catches new ones, and starts one deployer
 * run per eligible cluster in the home region's CodeBuild project.
 *
 * Member accounts (StackSets): an execution role trusted only by the exact ARNs of this feature's
 * three home roles (once per account), and a forwarding rule for CreateCluster / CreateFargateProfile
 * with its own role (per account and configured region).
 *
 * Home account: the central event bus (organization principals only) with its rule to `eks-event`
 * (retries, SQS dead-letter queue); `eks-discover` run at deploy time (custom resource), on a
 * schedule and from its work queue (batch item failures, dead-letter queue); the runs table; the
 * deployer project; optionally an organization trail.
 *
 * @example
 * // features/registry.ts
 * eksProtection: (scope, ctx) => new EksProtection(scope, 'EksProtection', ctx),
 */
/** The home queues: the event function's dead letters and discovery's work queue with its own. */
interface HomeQueues {
  readonly eventDeadLetters: sqs.Queue;
  readonly discoveryQueue: sqs.Queue;
}

/** What the home functions are built from. */
interface FunctionInputs {
  readonly queues: HomeQueues;
  readonly discoverCode: BundleLocation;
  readonly eventCode: BundleLocation;
  readonly deployerSettingsJson: string;
  readonly logRemovalPolicy: cdk.RemovalPolicy;
}

type BundleLocation = { readonly bucketName: string; readonly key: string };

export class EksProtection extends Construct {
  readonly names: EksNames;
  readonly rolesStackSet: OrgStackSet;
  readonly rulesStackSet: OrgStackSet;
  readonly bus: CentralBus;
  readonly runsTable: RunsTable;
  readonly deployer: DeployerProject;
  readonly discover: EksFunction;
  readonly event: EksFunction;
  readonly trail?: OrganizationTrail;
  private readonly config: ResolvedConfig;
  private readonly eks: ResolvedConfig['features']['eksProtection'];
  private coverageBucket?: s3.IBucket;

  /**
   * Called by the Coverage feature when it reports EKS: discovery reads that bucket's latest report
   * (`latest.json` and the details of the accounts it needs) to rebuild clusters whose nodes do not report.
   */
  useCoverageReports(bucket: s3.IBucket): void {
    this.coverageBucket = bucket;
    acknowledge(this.discover.role, {
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(bucket)}.Arn>/${REPORT_KEYS.datedPrefix}*/accounts/*]`,
      reason:
        'Each coverage run writes its per-account details under a new dated prefix (reports/YYYY/MM/DD/<time>/accounts/); discovery reads only those of accounts whose EKS clusters latest.json says need a look, read-only.',
    });
  }

  private reportBucket(): s3.IBucket {
    if (!this.coverageBucket) {
      throw new Error(
        'coverage reports EKS Protection but its report bucket was never handed to EKS Protection (Coverage must call useCoverageReports)',
      );
    }
    return this.coverageBucket;
  }

  /** Built in named steps: queues, the deployer, the functions and their triggers, the member StackSets, discovery. */
  constructor(scope: Construct, id: string, context: FeatureContext) {
    super(scope, id);
    const { config, artifacts } = context;
    this.config = config;
    this.eks = config.features.eksProtection;
    this.names = eksNames(config);
    // Logs outlive the stack, unless `destroy --purge` asked for nothing to be left behind.
    const logRemovalPolicy =
      context.purgeOnDelete === true ? cdk.RemovalPolicy.DESTROY : cdk.RemovalPolicy.RETAIN;
    // Every bundle is checked first: a missing one fails synth with the build hint.
    const discoverCode = artifacts.codeFor(EKS_DISCOVER_BUNDLE);
    const eventCode = artifacts.codeFor(EKS_EVENT_BUNDLE);
    const deployerBundle = artifacts.deployerBundle();

    if (this.eks.createOrganizationTrail) {
      this.trail = new OrganizationTrail(this, 'OrganizationTrail', {
        trailName: `${config.resourcePrefix}-organization`,
        organizationId: config.organization.id,
      });
    }
    this.bus = new CentralBus(this, 'EventBus', {
      eventBusName: this.names.eventBus,
      organizationId: config.organization.id,
    });
    this.runsTable = new RunsTable(this, 'Runs');
    const queues = this.buildQueues();
    const { project, settingsJson } = this.buildDeployer(context, deployerBundle, logRemovalPolicy);
    this.deployer = project;
    const { discover, event } = this.buildFunctions({
      queues,
      discoverCode,
      eventCode,
      deployerSettingsJson: settingsJson,
      logRemovalPolicy,
    });
    this.discover = discover;
    this.event = event;
    this.connectTriggers(queues);
    const { roles, rules } = this.buildMemberStackSets();
    this.rolesStackSet = roles;
    this.rulesStackSet = rules;
    this.runDiscoveryOnDeploy(discoverCode.key, deployerBundle.key, queues.discoveryQueue);
    this.addPlanNotes();
  }

  private buildQueues(): HomeQueues {
    const eventDeadLetters = encryptedQueue(this, 'EventDeadLetters', {
      retentionPeriod: cdk.Duration.days(14),
    });
    const discoveryDeadLetters = encryptedQueue(this, 'DiscoveryDeadLetters', {
      retentionPeriod: cdk.Duration.days(14),
    });
    const discoveryQueue = encryptedQueue(this, 'DiscoveryQueue', {
      // Lambda's advice for SQS event sources: six times the function timeout.
      visibilityTimeout: cdk.Duration.seconds(EKS_DISCOVER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: cdk.Duration.days(1),
      deadLetterQueue: { queue: discoveryDeadLetters, maxReceiveCount: DISCOVERY_MAX_RECEIVE_COUNT },
    });
    return { eventDeadLetters, discoveryQueue };
  }

  /** The deployer CodeBuild project and the run settings JSON both it and the functions get. */
  private buildDeployer(
    context: FeatureContext,
    bundle: ReturnType<FeatureContext['artifacts']['deployerBundle']>,
    logRemovalPolicy: cdk.RemovalPolicy,
  ): { project: DeployerProject; settingsJson: string } {
    const { artifacts } = context;
    const eks = this.eks;
    const names = this.names;
    const table = this.runsTable.table;
    const manifestKey = operatorManifestKey(eks.deployer.operator.version);
    // Uploaded when `deploy` (or `synth --operator-manifest`) staged the checked manifest.
    artifacts.operatorManifest(eks.deployer.operator.version);
    const settings = deployerRunSettingsFromConfig(this.config, {
      homeAccountId: cdk.Aws.ACCOUNT_ID,
      manifestBucket: artifacts.bucket.bucketName,
      manifestKey,
    });
    const settingsJson = cdk.Stack.of(this).toJsonString(settings);
    const project = new DeployerProject(this, 'Deployer', {
      projectName: names.deployerProject,
      roleName: names.deployerRole,
      artifactsBucket: artifacts.bucket,
      bundle,
      falconSecret: context.credentialsFor('eksProtection').secret,
      runsTableName: table.tableName,
      runsTableArn: table.tableArn,
      settingsJson,
      executionRoleName: names.executionRole,
      organizationId: this.config.organization.id,
      lockTtlMinutes: eks.lockTtlMinutes,
      logRemovalPolicy,
      ...(eks.deployer.mirrorImages.enabled
        ? { mirrorRepositoryPrefix: eks.deployer.mirrorImages.repositoryPrefix }
        : {}),
    });
    return { project, settingsJson };
  }

  /** `eks-discover` and `eks-event`, each through the one function builder with its statements. */
  private buildFunctions(inputs: FunctionInputs): { discover: EksFunction; event: EksFunction } {
    const { queues, discoverCode, eventCode, logRemovalPolicy } = inputs;
    const { config, eks, names } = this;
    const table = this.runsTable.table;
    // Coverage (constructed after this feature) hands its report bucket over (useCoverageReports):
    // discovery reads the latest report and rebuilds the clusters whose nodes do not report.
    const coverageReports = reportsEksCoverage(config)
      ? {
          bucketName: cdk.Lazy.string({ produce: () => this.reportBucket().bucketName }),
          latest: cdk.Lazy.string({
            produce: () => this.reportBucket().arnForObjects(REPORT_KEYS.latestJson),
          }),
          details: cdk.Lazy.string({
            produce: () => this.reportBucket().arnForObjects(`${REPORT_KEYS.datedPrefix}*/accounts/*`),
          }),
        }
      : undefined;
    const environment = {
      [EKS_FUNCTION_ENV.settings]: cdk.Stack.of(this).toJsonString(
        eksFunctionSettings(this.config, names.executionRole),
      ),
      [EKS_FUNCTION_ENV.runsTable]: table.tableName,
      [EKS_FUNCTION_ENV.deployerProject]: this.deployer.project.projectName,
      [EKS_FUNCTION_ENV.discoveryQueueUrl]: queues.discoveryQueue.queueUrl,
      // The same JSON as the deployer's: both sides compute a cluster's desired state from it.
      [EKS_FUNCTION_ENV.deployerSettings]: inputs.deployerSettingsJson,
    };
    const common = homeFunctionStatements(
      names,
      this.config.organization.id,
      table.tableArn,
      this.deployer.project.projectArn,
    );
    const codeBucket = s3.Bucket.fromBucketName(this, 'CodeBucket', discoverCode.bucketName);
    const discover = new EksFunction(this, 'Discover', {
      functionName: names.discoverFunction,
      roleName: names.discoverRole,
      description: 'falcon-org: finds every EKS cluster of the organization and starts deployer runs',
      codeBucket,
      codeKey: discoverCode.key,
      timeout: EKS_DISCOVER_TIMEOUT,
      memorySize: 512,
      logRemovalPolicy,
      environment: {
        ...environment,
        ...(coverageReports ? { [EKS_FUNCTION_ENV.coverageReportBucket]: coverageReports.bucketName } : {}),
      },
      statements: [
        ...common,
        ...pacingStatements(table.tableArn, eks.rollout.concurrentBuilds),
        ...(coverageReports
          ? [
              new iam.PolicyStatement({
                sid: 'ReadCoverageReport',
                actions: ['s3:GetObject'],
                resources: [coverageReports.latest, coverageReports.details],
              }),
            ]
          : []),
        new iam.PolicyStatement({
          sid: 'SpreadDiscoveryWork',
          actions: [
            'sqs:SendMessage',
            'sqs:ReceiveMessage',
            'sqs:DeleteMessage',
            'sqs:ChangeMessageVisibility',
            'sqs:GetQueueAttributes',
          ],
          resources: [queues.discoveryQueue.queueArn],
        }),
      ],
    });
    const event = new EksFunction(this, 'Event', {
      functionName: names.eventFunction,
      roleName: names.eventRole,
      description: 'falcon-org: starts a deployer run for a new EKS cluster or Fargate profile',
      codeBucket,
      codeKey: eventCode.key,
      timeout: EKS_EVENT_TIMEOUT,
      memorySize: 256,
      logRemovalPolicy,
      environment,
      deadLetterQueue: queues.eventDeadLetters,
      statements: [
        ...common,
        new iam.PolicyStatement({
          // An event that meets a held lock queues its account to be looked at again (a follow-up).
          sid: 'QueueFollowUps',
          actions: ['sqs:SendMessage'],
          resources: [queues.discoveryQueue.queueArn],
        }),
      ],
    });
    acknowledgeHomeFunctionRole(discover.role, names);
    acknowledgeHomeFunctionRole(event.role, names);
    return { discover, event };
  }

  /** What starts the functions: the work queue, the cluster-event rule on the bus, the schedule. */
  private connectTriggers(queues: HomeQueues): void {
    new lambda.EventSourceMapping(this, 'DiscoveryWork', {
      target: this.discover.function,
      eventSourceArn: queues.discoveryQueue.queueArn,
      batchSize: 10,
      reportBatchItemFailures: true,
      maxConcurrency: DISCOVERY_QUEUE_CONCURRENCY,
    }).node.addDependency(this.discover.role);

    const clusterEvents = new events.Rule(this, 'ClusterEvents', {
      eventBus: this.bus.bus,
      description: 'falcon-org: EKS cluster events from member accounts to eks-event',
      eventPattern: CLUSTER_EVENT_PATTERN,
    });
    clusterEvents.addTarget(
      new targets.LambdaFunction(this.event.function, {
        retryAttempts: EKS_EVENT_RETRY_ATTEMPTS,
        maxEventAge: cdk.Duration.hours(6),
        deadLetterQueue: queues.eventDeadLetters,
      }),
    );
    const schedule = new events.Rule(this, 'DiscoverySchedule', {
      description: 'falcon-org: runs EKS discovery again to catch missed events and repair drift',
      schedule: events.Schedule.expression(this.eks.schedule),
    });
    schedule.addTarget(new targets.LambdaFunction(this.discover.function));
  }

  /** Per member account the execution role; per member account and region the forwarding rule. */
  private buildMemberStackSets(): { roles: OrgStackSet; rules: OrgStackSet } {
    const { config, eks, names } = this;
    const homeRoleArns = (params: Readonly<Record<string, cdk.CfnParameter>>) => {
      const home = memberParameter(params, EKS_MEMBER_PARAMETERS.homeAccountId).valueAsString;
      return [names.discoverRole, names.eventRole, names.deployerRole].map((n) => roleArn(home, n));
    };
    const homeParameter = {
      [EKS_MEMBER_PARAMETERS.homeAccountId]: {
        value: cdk.Aws.ACCOUNT_ID,
        description: 'The home account: its EKS Protection roles and event bus',
        allowedPattern: '^\\d{12}$',
      },
    };
    const roles = new OrgStackSet(this, 'RolesStackSet', {
      config,
      feature: 'eksProtection',
      stackSetName: names.rolesStackSet,
      description: 'falcon-org EKS Protection: the execution role the home account uses (per account)',
      scope: 'account',
      parameters: homeParameter,
      defineMember: (member, params) =>
        new ExecutionRole(member, 'Execution', {
          roleName: names.executionRole,
          trustedRoleArns: homeRoleArns(params),
          listsRegions: eks.discoverEnabledRegions,
          widensAllowList: eks.deployer.allowListEgress,
        }),
    });
    // IAM resolves the trusted role ARNs when the member role is created: they must exist first.
    roles.node.addDependency(this.discover.role, this.event.role, this.deployer.role);

    const rules = new OrgStackSet(this, 'RulesStackSet', {
      config,
      feature: 'eksProtection',
      stackSetName: names.rulesStackSet,
      description:
        'falcon-org EKS Protection: forwards CreateCluster and CreateFargateProfile to the central bus (per account and region)',
      scope: 'account-region',
      regions: config.derived.eksRegions,
      parameters: homeParameter,
      defineMember: (member, params) =>
        new ForwardingRule(member, 'Forward', {
          ruleName: names.forwardingRule,
          centralBusArn: eventBusArn(
            config.aws.homeRegion,
            memberParameter(params, EKS_MEMBER_PARAMETERS.homeAccountId).valueAsString,
            names.eventBus,
          ),
        }),
    });
    rules.node.addDependency(this.bus);
    return { roles, rules };
  }

  /** The custom resource that runs discovery on every deploy whose settings or code changed. */
  private runDiscoveryOnDeploy(codeKey: string, deployerKey: string, discoveryQueue: sqs.IQueue): void {
    const discovery = new cdk.CustomResource(this, 'Discovery', {
      serviceToken: this.discover.function.functionArn,
      resourceType: EKS_DISCOVERY_RESOURCE_TYPE,
      serviceTimeout: cdk.Duration.minutes(20),
      properties: {
        // Non-secret; a change re-runs discovery with the new settings or code.
        ConfigHash: eksConfigHash(this.config),
        CodeKey: codeKey,
        DeployerKey: deployerKey,
      },
    });
    discovery.node.addDependency(
      this.rolesStackSet,
      this.rulesStackSet,
      this.deployer,
      this.runsTable,
      this.discover,
      discoveryQueue,
    );
  }

  private addPlanNotes(): void {
    const { config, eks, names } = this;
    addPlanNote(
      this,
      'eksProtection',
      `deployer: CodeBuild project ${names.deployerProject} (home region ${config.aws.homeRegion}) runs the bundled deployer (${DEPLOYER_DESCRIPTION}) once per eligible cluster; operator ${eks.deployer.operator.version}`,
    );
    addPlanNote(
      this,
      'eksProtection',
      eks.createOrganizationTrail
        ? `CloudTrail: creates the organization trail ${config.resourcePrefix}-organization (write management events, every region)`
        : 'CloudTrail: needs an organization trail logging management events (not created here; deploy checks for it, or set createOrganizationTrail: true)',
    );
  }
}

/** What a deployer run does, as `plan` says it. */
export const DEPLOYER_DESCRIPTION =
  'dist/deployer/index.mjs: access entry, Falcon Operator, sensors by compute mode, verification, cleanup';

/**
 * Statements both home functions need: the member role (only in accounts of the organization),
 * organization structure, runs table, and deployer runs without overrides.
 */
function homeFunctionStatements(
  names: EksNames,
  organizationId: string,
  tableArn: string,
  projectArn: string,
): iam.PolicyStatement[] {
  return [
    assumeExecutionRoleStatement(names.executionRole, organizationId),
    new iam.PolicyStatement({
      sid: 'ReadOrganizationStructure',
      actions: ['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'KeepRunsTable',
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: [tableArn],
    }),
    ...startDeployerRunStatements(projectArn, names.executionRole),
  ];
}

/** Whether the coverage report (when enabled) covers EKS Protection: the same rule as coverageSettings. */
function reportsEksCoverage(config: ResolvedConfig): boolean {
  return config.coverage.enabled && (config.coverage.features?.includes('eksProtection') ?? true);
}

/**
 * Discovery paces its builds to CodeBuild (src/eks/build-capacity.ts): it counts the runs in flight
 * (the held locks of the runs table) and, unless `rollout.concurrentBuilds` sets the limit, reads the
 * CodeBuild concurrent-build quota.
 */
function pacingStatements(tableArn: string, concurrentBuilds: number | undefined): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'CountRunsInFlight',
      actions: ['dynamodb:Scan'],
      resources: [tableArn],
    }),
    ...(concurrentBuilds === undefined
      ? [
          new iam.PolicyStatement({
            // Service Quotas read actions have no resource-level permissions for a quota value.
            sid: 'ReadCodeBuildQuota',
            actions: ['servicequotas:GetServiceQuota', 'servicequotas:GetAWSDefaultServiceQuota'],
            resources: ['*'],
          }),
        ]
      : []),
  ];
}

function acknowledgeHomeFunctionRole(role: iam.Role, names: EksNames): void {
  acknowledge(
    role,
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'AWS Organizations read actions (the accounts under the configured OUs, nested OUs included) are only authorized on "*" from a delegated administrator, whose management account is not known at synth time; the Service Quotas reads of the CodeBuild quota (discovery only) take no resource either.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${names.executionRole}]`,
      reason:
        "Clusters live in any member account, found at run time: the function may assume the EKS execution role of that name in any account of the organization (aws:ResourceOrgID), and that role's trust policy admits only this function's role (and the two other EKS Protection roles).",
    },
  );
}

/** Changes whenever a setting that changes what discovery does changes (re-runs it on update). */
export function eksConfigHash(config: ResolvedConfig): string {
  const eks = config.features.eksProtection;
  const relevant = {
    targets: config.organization.targets,
    excludeAccounts: config.organization.excludeAccounts,
    regions: config.derived.eksRegions,
    discoverEnabledRegions: eks.discoverEnabledRegions,
    minKubernetesVersion: eks.minKubernetesVersion,
    sensor: eks.sensor,
    admissionController: eks.admissionController,
    deployer: eks.deployer,
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
}

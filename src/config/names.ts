/**
 * Names that are the same in every account and region, derived from the configuration alone. Pure
 * (no aws-cdk-lib): the infrastructure, the Lambda handlers and the CLI's `status` path all read them,
 * and the last two must start without loading the CDK.
 */

/** The part of the configuration names are made from. */
export interface NamedConfig {
  readonly resourcePrefix: string;
}

/** Names of the SSM Distributor pieces (member accounts). */
export interface SsmNames {
  readonly roleStackSet: string;
  readonly associationStackSet: string;
  readonly roleName: string;
  readonly secretName: string;
  /** The State Manager association, the same in every account and region. */
  readonly associationName: string;
  /** The EC2-instance resource group tag targets become (per account and region). */
  readonly targetGroup: string;
}

export function ssmNames(config: NamedConfig): SsmNames {
  const prefix = config.resourcePrefix;
  return {
    roleStackSet: `${prefix}-ssm-role`,
    associationStackSet: `${prefix}-ssm-association`,
    roleName: `${prefix}-ssm-automation`,
    secretName: `${prefix}-falcon-api`,
    associationName: `${prefix}-falcon-sensor`,
    targetGroup: `${prefix}-falcon-sensor-targets`,
  };
}

/** Names of the ECR Registry Connections pieces; the same in every member account. */
export interface EcrNames {
  readonly stackSet: string;
  /** The role Falcon assumes to read ECR (fixed, so operators and Falcon support can find it). */
  readonly connectionRole: string;
  /** The `ecr-connect` function (fixed, so an operator can invoke a repair by name). */
  readonly function: string;
  /** SSM parameter the handler keeps its ownership record in (the handler owns it, not CloudFormation). */
  readonly ownershipParameter: string;
  /** The custom resource's `DeploymentId`: identifies the deployment that owns the connections it creates. */
  readonly deploymentId: string;
}

export function ecrNames(config: NamedConfig): EcrNames {
  const prefix = config.resourcePrefix;
  return {
    stackSet: `${prefix}-ecr-connections`,
    connectionRole: `${prefix}-ecr-connection`,
    function: `${prefix}-ecr-connect`,
    ownershipParameter: `/${prefix}/ecr-connections/ownership`,
    deploymentId: prefix,
  };
}

/** Names of the EKS Protection pieces. Fixed names are the ones other accounts or people refer to. */
export interface EksNames {
  /** StackSet of the member execution role (once per account). */
  readonly rolesStackSet: string;
  /** StackSet of the CreateCluster forwarding rule (per account and region). */
  readonly rulesStackSet: string;
  /** The member execution role: the same name in every account, so the home functions can build its ARN. */
  readonly executionRole: string;
  /** Home roles the member execution role trusts by exact ARN (fixed names, so the ARN is known). */
  readonly discoverRole: string;
  readonly eventRole: string;
  readonly deployerRole: string;
  /** The central event bus member rules forward to. */
  readonly eventBus: string;
  readonly discoverFunction: string;
  readonly eventFunction: string;
  /** The deployer's CodeBuild project (home region); runs are started here, never in a cluster's region. */
  readonly deployerProject: string;
  /** The member accounts' forwarding rule (one per account and region): its role trusts only this rule. */
  readonly forwardingRule: string;
}

export function eksNames(config: NamedConfig): EksNames {
  const prefix = config.resourcePrefix;
  return {
    rolesStackSet: `${prefix}-eks-roles`,
    rulesStackSet: `${prefix}-eks-rules`,
    executionRole: `${prefix}-eks-execution`,
    discoverRole: `${prefix}-eks-discover`,
    eventRole: `${prefix}-eks-event`,
    deployerRole: `${prefix}-eks-deployer`,
    eventBus: `${prefix}-eks-events`,
    discoverFunction: `${prefix}-eks-discover`,
    eventFunction: `${prefix}-eks-event`,
    deployerProject: `${prefix}-eks-deployer`,
    forwardingRule: `${prefix}-eks-forward-cluster-events`,
  };
}

/** Names of the coverage pieces; the read role's is the same in every member account. */
export interface CoverageNames {
  readonly stackSet: string;
  /** The read-only role in every member account (fixed: the function builds its ARN per account). */
  readonly readRole: string;
  /** The `coverage` function in the home account (fixed, so an operator can invoke it by name). */
  readonly function: string;
  /** SSM parameter (home region) naming the report bucket, for readers without the root stack's outputs. */
  readonly reportBucketParameter: string;
}

export function coverageNames(config: NamedConfig): CoverageNames {
  const prefix = config.resourcePrefix;
  return {
    stackSet: `${prefix}-coverage-read`,
    readRole: `${prefix}-coverage-read`,
    function: `${prefix}-coverage`,
    reportBucketParameter: `/${prefix}/coverage/report-bucket`,
  };
}

/** The root stack's name: the resource prefix. */
export function rootStackName(config: NamedConfig): string {
  return config.resourcePrefix;
}

/** Outputs of the root stack that the CLI reads back (`status` finds what was deployed through them). */
export const ROOT_STACK_OUTPUTS = {
  /** The coverage report bucket (with `coverage.enabled`). */
  reportBucket: 'CoverageReportBucket',
  /** The EKS runs table (with `features.eksProtection.enabled`). */
  runsTable: 'EksRunsTable',
} as const;

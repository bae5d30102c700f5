import * as iam from 'aws-cdk-lib/aws-iam';
import { RUN_ENV } from '../../../eks/run-contract.js';

/**
 * CodeBuild condition keys that are present when a StartBuild request overrides a project setting
 * (CodeBuild user guide, "AWS CodeBuild condition keys", and the service authorization reference).
 * A caller that could override any of them could run other commands, another image, privileged, as
 * another role, or send the logs elsewhere — and print the Falcon secret the build receives. Each
 * gets its own Deny (conditions in one statement are ANDed; a Deny per key makes any one enough).
 */
export const DENIED_START_BUILD_OVERRIDES = [
  'codebuild:source.buildspec',
  'codebuild:source',
  'codebuild:source.location',
  'codebuild:secondarySources',
  'codebuild:artifacts',
  'codebuild:secondaryArtifacts',
  'codebuild:environment.image',
  'codebuild:environment.type',
  'codebuild:environment.computeType',
  'codebuild:environment.privilegedMode',
  'codebuild:environment.certificate',
  'codebuild:environment.registryCredential',
  'codebuild:environment.imagePullCredentialsType',
  'codebuild:environment.fleet.fleetArn',
  'codebuild:serviceRole',
  'codebuild:logsConfig',
  'codebuild:cache',
  'codebuild:encryptionKey',
] as const;

/** The variables a run is started with; every other variable (the project's own) stays as deployed. */
export const ALLOWED_RUN_VARIABLES: readonly string[] = Object.values(RUN_ENV);

/** Run variables whose values are identifiers: never a Secrets Manager or Parameter Store ARN. */
const IDENTIFIER_VARIABLES = [
  RUN_ENV.accountId,
  RUN_ENV.region,
  RUN_ENV.cluster,
  RUN_ENV.compute,
  RUN_ENV.runId,
  RUN_ENV.mode,
] as const;

const valueKey = (name: string) => `codebuild:environment.environmentVariables/${name}.value`;

/**
 * What a role that starts deployer runs may do with the project: start builds with the run
 * variables (RUN_ENV) and nothing else overridden. The execution role ARN must name the member
 * execution role; the identifier variables must not hold a `:` (no secret reference).
 */
export function startDeployerRunStatements(
  projectArn: string,
  executionRoleName: string,
): iam.PolicyStatement[] {
  // Denies name no resource: they hold for any project (these roles start only the deployer's),
  // and the policy stays well inside IAM's size limit for a role's inline policies.
  const deny = (sid: string, conditions: Record<string, Record<string, unknown>>) =>
    new iam.PolicyStatement({
      sid,
      effect: iam.Effect.DENY,
      actions: ['codebuild:StartBuild'],
      resources: ['*'],
      conditions,
    });
  return [
    new iam.PolicyStatement({
      sid: 'StartDeployerRuns',
      actions: ['codebuild:StartBuild'],
      resources: [projectArn],
    }),
    ...DENIED_START_BUILD_OVERRIDES.map((key) =>
      deny(`NoOverride${sidPart(key)}`, { Null: { [key]: 'false' } }),
    ),
    deny('OnlyRunVariables', {
      'ForAnyValue:StringNotEquals': {
        'codebuild:environment.environmentVariables.name': [...ALLOWED_RUN_VARIABLES],
      },
    }),
    deny('OnlyTheExecutionRole', {
      StringNotLike: { [valueKey(RUN_ENV.executionRoleArn)]: `arn:*:iam::*:role/${executionRoleName}` },
    }),
    // One statement per variable: keys under one operator are ANDed.
    ...IDENTIFIER_VARIABLES.map((name) =>
      deny(`NoReferenceIn${sidPart(name.toLowerCase().replace(/_/g, '.'))}`, {
        StringLike: { [valueKey(name)]: '*:*' },
      }),
    ),
  ];
}

/** "codebuild:environment.privilegedMode" → "EnvironmentPrivilegedMode" (a statement ID). */
function sidPart(key: string): string {
  return key
    .replace(/^codebuild:/, '')
    .split(/[.:]/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

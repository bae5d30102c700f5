import * as cdk from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ResolvedConfig } from '../../config/load.js';
import {
  CLIENT_ID_PARAMETER,
  CLIENT_SECRET_PARAMETER,
  credentialParameters,
  credentialsSecretObject,
  SECRET_ROTATION_REASON,
} from '../credentials.js';
import { acknowledge } from '../nag.js';
import { memberParameter, OrgStackSet } from '../org-stackset.js';
import { ecrConfigHash } from './ecr/config-hash.js';
import { ConnectFunction } from './ecr/connect-function.js';
import { ConnectionRole } from './ecr/connection-role.js';
import { ecrNames, type EcrNames } from './ecr/names.js';
import type { FeatureContext } from './feature.js';

/** The Lambda bundle (`dist/lambda/<name>/index.mjs`) the feature runs. */
export const ECR_CONNECT_BUNDLE = 'ecr-connect';
/** CloudFormation type of the custom resource that runs the reconcile on Create, Update and Delete. */
export const ECR_CONNECTIONS_RESOURCE_TYPE = 'Custom::FalconEcrConnections';

/** Member template parameters, filled by the StackSet from the root stack. */
export const ECR_MEMBER_PARAMETERS = {
  clientId: CLIENT_ID_PARAMETER,
  clientSecret: CLIENT_SECRET_PARAMETER,
  codeBucket: 'LambdaCodeBucket',
  codeKey: 'LambdaCodeKey',
} as const;

/**
 * How long CloudFormation waits for the custom resource's answer. The handler always answers before
 * its own 300 s timeout, so this only bounds a run that crashed without answering (instead of
 * CloudFormation's default hour). It leaves room for a request queued behind a scheduled run (with
 * reserved concurrency) or waiting for its run lease, and for Lambda's asynchronous retries, so a busy
 * function is not mistaken for a dead one.
 */
export const CUSTOM_RESOURCE_SERVICE_TIMEOUT = cdk.Duration.minutes(30);

/**
 * ECR Registry Connections: connects every member account's ECR registries to Falcon image assessment.
 * One StackSet, one instance per account in the home region (the Lambda code bucket is there), with:
 * - the connection role CrowdStrike's registry-assessment principal assumes, and its external ID;
 * - the Falcon credentials secret the handler reads;
 * - the `ecr-connect` function, its least-privilege execution role and log group;
 * - the custom resource that reconciles on Create / Update / Delete;
 * - a schedule (default daily) that repairs drift with the same reconcile.
 *
 * @example
 * // features/registry.ts
 * ecrConnections: (scope, ctx) => new EcrConnections(scope, 'EcrConnections', ctx),
 */
export class EcrConnections extends Construct {
  readonly stackSet: OrgStackSet;
  readonly names: EcrNames;

  constructor(scope: Construct, id: string, context: FeatureContext) {
    super(scope, id);
    const { config } = context;
    const names = ecrNames(config);
    this.names = names;
    const code = context.artifacts.codeFor(ECR_CONNECT_BUNDLE);
    const credentials = context.credentialsFor('ecrConnections');
    const p = ECR_MEMBER_PARAMETERS;

    this.stackSet = new OrgStackSet(this, 'StackSet', {
      config,
      feature: 'ecrConnections',
      stackSetName: names.stackSet,
      description:
        'falcon-org ECR Registry Connections: connection role, ecr-connect function, custom resource and schedule (per account)',
      scope: 'account',
      parameters: {
        ...credentialParameters(credentials),
        [p.codeBucket]: { value: code.bucketName, description: 'Bucket holding the ecr-connect bundle' },
        [p.codeKey]: {
          value: code.key,
          description: 'Key of the ecr-connect bundle (changes with its content)',
        },
      },
      defineMember: (stack, params) =>
        defineMember(stack, params, config, names, context.purgeOnDelete === true),
    });
  }
}

function defineMember(
  stack: cdk.Stack,
  params: Readonly<Record<string, cdk.CfnParameter>>,
  config: ResolvedConfig,
  names: EcrNames,
  purgeOnDelete: boolean,
): void {
  const p = ECR_MEMBER_PARAMETERS;
  const connection = new ConnectionRole(stack, 'Connection', { config, roleName: names.connectionRole });
  const falconSecret = falconCredentialsSecret(stack, params, config);
  const ecr = config.features.ecrConnections;
  const connect = new ConnectFunction(stack, 'Connect', {
    functionName: names.function,
    codeBucket: memberParameter(params, p.codeBucket).valueAsString,
    codeKey: memberParameter(params, p.codeKey).valueAsString,
    falconSecret,
    externalIdSecret: connection.externalId,
    connectionRole: connection.role,
    ownershipParameterName: names.ownershipParameter,
    // GovCloud regions are known to the handler; in commercial AWS it asks account:ListRegions.
    discoversRegions: config.derived.ecrRegions.length === 0 && config.aws.partition === 'aws',
    reserveConcurrency: config.features.ecrConnections.reserveConcurrency,
    purgeOnDelete,
  });

  // Properties are what the handler parses (src/ecr/properties.ts); none is secret.
  const connections = new cdk.CustomResource(stack, 'Connections', {
    serviceToken: connect.function.functionArn,
    resourceType: ECR_CONNECTIONS_RESOURCE_TYPE,
    serviceTimeout: CUSTOM_RESOURCE_SERVICE_TIMEOUT,
    properties: {
      DeploymentId: names.deploymentId,
      // Empty: every region enabled for the account, found at run time.
      Regions: [...config.derived.ecrRegions].sort(),
      DisconnectOnDelete: String(ecr.disconnectOnDelete),
      // Only in the template `destroy --purge` deploys before deleting: the Delete then also removes
      // the ownership record, the run lease and the function's log group.
      PurgeOnDelete: String(purgeOnDelete),
      // The handler answers it spread by account (Data.RepairSchedule), read by the rule below.
      RepairSchedule: ecr.schedule,
      ConfigHash: ecrConfigHash(config),
      // A new bundle re-runs the reconcile with the new code.
      CodeKey: memberParameter(params, p.codeKey).valueAsString,
    },
  });
  // The role must exist before Falcon is asked to use it; IAM propagation is handled by the handler,
  // which retries Falcon's "failed to validate registry credential" answers instead of sleeping.
  connections.node.addDependency(connection.role, connect.role, connect.function);

  // Drift repair: the scheduled event as EventBridge sends it (source aws.events, detail-type
  // "Scheduled Event") is what the handler recognizes, so the target passes it unchanged. The
  // expression is the configured one at a minute (and hour) derived from the account ID, computed by
  // the handler (CloudFormation has no hash function) and read from the custom resource's answer, so
  // the accounts of an organization do not all call Falcon at once; no extra permission is needed.
  const schedule = new events.Rule(stack, 'RepairSchedule', {
    description: 'falcon-org: repairs drift in the Falcon registry connections of this account',
    schedule: events.Schedule.expression(connections.getAttString('RepairSchedule')),
  });
  schedule.addTarget(new targets.LambdaFunction(connect.function));
}

function falconCredentialsSecret(
  stack: cdk.Stack,
  params: Readonly<Record<string, cdk.CfnParameter>>,
  config: ResolvedConfig,
): secretsmanager.Secret {
  const p = ECR_MEMBER_PARAMETERS;
  const secret = new secretsmanager.Secret(stack, 'FalconCredentials', {
    description: 'falcon-org: Falcon API credentials read by the ecr-connect function',
    secretObjectValue: credentialsSecretObject(
      memberParameter(params, p.clientId),
      memberParameter(params, p.clientSecret),
      { Cloud: config.falcon.cloud, ...(config.falcon.baseUrl ? { BaseUrl: config.falcon.baseUrl } : {}) },
    ),
    removalPolicy: cdk.RemovalPolicy.DESTROY,
  });
  acknowledge(secret, { id: 'AwsSolutions-SMG4', reason: SECRET_ROTATION_REASON });
  return secret;
}

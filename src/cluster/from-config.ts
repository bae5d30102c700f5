import { readFile } from 'node:fs/promises';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ResolvedConfig } from '../config/load.js';
import { eksNames } from '../config/names.js';
import { SecretsManagerReader } from '../aws/secrets.js';
import { DynamoRunsTable } from '../eks/runs-table.js';
import { readFalconClient, resolveFalconClient } from '../falcon/credentials.js';
import { cliRunId, type DeployClusterOptions, type RunsTableLookup } from './cli-run.js';
import { runsTableOfProject } from './project-runs-table.js';
import { createDeployerDeps } from './aws-deps.js';
import type { DeployerEnvironment } from './environment.js';
import { describeError } from '../shared/describe-error.js';
import { DeployerSettingsError, ManifestError } from './errors.js';
import type { ManifestSource } from './manifest.js';
import type { DeployerDeps } from './run.js';
import { deployerRunSettingsFromConfig } from './settings.js';

/** The manifest from the configured local file, or fetched once from the configured release URL. */
export function configManifestSource(
  config: ResolvedConfig,
  fetchImpl: typeof fetch = fetch,
): ManifestSource {
  const operator = config.features.eksProtection.deployer.operator;
  return {
    read: async () => {
      if (operator.manifestFile !== undefined) return new Uint8Array(await readFile(operator.manifestFile));
      const url =
        operator.manifestUrl ??
        `https://github.com/crowdstrike/falcon-operator/releases/download/${operator.version}/falcon-operator.yaml`;
      const response = await fetchImpl(url);
      if (!response.ok) throw new ManifestError(`GET ${url}: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

/** An assumed-role session ARN turned back into its role ARN (the access entry needs the role). */
export function roleArnOfCaller(callerArn: string): string {
  const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : callerArn;
}

/** The clusters' client (`falcon.clients.eksProtection`, else `falcon.credentials`): what a run copies into the cluster. */
async function falconCredentials(
  config: ResolvedConfig,
  env: NodeJS.ProcessEnv,
): Promise<{ clientId: string; clientSecret: string }> {
  const { clientId, clientSecret } = await readFalconClient(
    resolveFalconClient(config.falcon, 'eksProtection'),
    {
      env,
      secrets: () => new SecretsManagerReader(new SecretsManagerClient({ region: config.aws.homeRegion })),
    },
  );
  return { clientId, clientSecret };
}

/** The run's environment as CodeBuild would give it, built from the configuration and the CLI options. */
export async function environmentFromConfig(
  config: ResolvedConfig,
  options: DeployClusterOptions,
  env: NodeJS.ProcessEnv,
): Promise<DeployerEnvironment> {
  const settings = deployerRunSettingsFromConfig(config, {
    homeAccountId: options.accountId,
    manifestBucket: 'local',
    manifestKey: 'falcon-operator.yaml',
  });
  const { clientId, clientSecret } = await falconCredentials(config, env);
  return {
    request: {
      accountId: options.accountId,
      region: options.region,
      cluster: options.cluster,
      compute: options.compute,
      executionRoleArn: options.roleArn ?? '',
      runId: cliRunId(),
      mode: options.mode,
    },
    settings,
    runsTable: undefined,
    clientId,
    clientSecret,
  };
}

/** Wires a CLI run: the caller's credentials (or an assumed role), the manifest from config. */
export async function cliDeployerDeps(
  config: ResolvedConfig,
  environment: DeployerEnvironment,
  options: DeployClusterOptions,
  log: (line: string) => void,
): Promise<DeployerDeps> {
  const credentials = options.roleArn
    ? fromTemporaryCredentials({
        params: { RoleArn: options.roleArn, RoleSessionName: 'falcon-org-deploy-cluster' },
        clientConfig: { region: config.aws.homeRegion },
      })
    : fromNodeProviderChain();
  const sts = new STSClient({ region: options.region, credentials });
  const caller = await sts.send(new GetCallerIdentityCommand({}));
  if (caller.Account !== options.accountId) {
    throw new DeployerSettingsError(
      `the credentials belong to account ${caller.Account ?? '?'}, not ${options.accountId}; use credentials of the cluster's account or --role-arn`,
    );
  }
  return createDeployerDeps(environment, log, {
    memberCredentials: credentials,
    principalArn: options.roleArn ?? roleArnOfCaller(caller.Arn ?? ''),
    manifests: configManifestSource(config),
  });
}

/**
 * The deployment's runs table, with the home account's credentials: the AWS profile given
 * (`--home-profile`), else the credentials the CLI runs with. The CLI takes its cluster lock there
 * and records its result, as every other way in does.
 */
export async function cliRunsTable(config: ResolvedConfig, homeProfile?: string): Promise<RunsTableLookup> {
  const region = config.aws.homeRegion;
  const credentials = homeProfile !== undefined ? fromIni({ profile: homeProfile }) : fromNodeProviderChain();
  const projectName = eksNames(config).deployerProject;
  const fix =
    'run with credentials of the home account (and --role-arn for the cluster account), or pass --home-profile PROFILE; if EKS Protection is not deployed, pass --without-lock';
  let name: string | undefined;
  try {
    name = await runsTableOfProject(new CodeBuildClient({ region, credentials }), projectName);
  } catch (error) {
    return {
      found: false,
      reason: `could not look up the EKS deployer project ${projectName} in ${region} to find the runs table (${describeError(error)}); ${fix}`,
    };
  }
  if (name === undefined) {
    return {
      found: false,
      reason: `the EKS deployer project ${projectName} does not exist in ${region} for ${homeProfile !== undefined ? `profile ${homeProfile}` : 'these credentials'}, so the cluster's run lock cannot be taken; ${fix}`,
    };
  }
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region, credentials }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { found: true, name, table: new DynamoRunsTable(doc, name) };
}

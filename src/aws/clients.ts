import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient, type STSClientConfig } from '@aws-sdk/client-sts';

/** Static credentials or a provider, as every SDK v3 client accepts them. */
export type AwsCredentials = NonNullable<STSClientConfig['credentials']>;

/**
 * Settings shared by every AWS SDK v3 client this project creates.
 *
 * Endpoints are deliberately NOT a setting: the SDK's own endpoint configuration
 * (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, `endpoint_url` in the shared config file)
 * applies unchanged, which is how tests and emulators point the unchanged code elsewhere.
 */
export interface AwsClientSettings {
  /** Region the clients talk to (for global services such as Organizations: the partition's endpoint). */
  readonly region: string;
  /** @default the SDK's default credential chain (environment, profile, SSO, instance role, ...) */
  readonly credentials?: AwsCredentials;
  /** @default 3 (the SDK default) */
  readonly maxAttempts?: number;
  /** Connections shared with other clients (see {@link createSharedConnections}). @default - the client's own pool */
  readonly connections?: SharedConnections;
}

/**
 * Keep-alive agents shared by many clients: every client given them sends through one connection pool
 * instead of opening its own (a client per account × service × region would otherwise mean a TCP and
 * TLS handshake for nearly every call). Passed to each client as its request handler's agents.
 */
export interface SharedConnections {
  readonly httpAgent: HttpAgent;
  readonly httpsAgent: HttpsAgent;
}

/** One pool of keep-alive connections, at most `maxSockets` per host. @default 64 */
export function createSharedConnections(maxSockets = 64): SharedConnections {
  const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' as const };
  return { httpAgent: new HttpAgent(options), httpsAgent: new HttpsAgent(options) };
}

/** The part of an SDK v3 client's configuration `createClient` sets. */
export interface AwsClientConfig {
  region: string;
  credentials?: AwsCredentials;
  maxAttempts?: number;
  /** The SDK's Node.js handler options: here only its agents. */
  requestHandler?: SharedConnections;
}

/** Creates one client with the shared settings; works for any SDK v3 client class. */
export function createClient<C>(
  ClientClass: new (config: AwsClientConfig) => C,
  settings: AwsClientSettings,
): C {
  return new ClientClass({
    region: settings.region,
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    ...(settings.maxAttempts ? { maxAttempts: settings.maxAttempts } : {}),
    ...(settings.connections ? { requestHandler: settings.connections } : {}),
  });
}

/** The clients `deploy` and `destroy` use in the home account and region. */
export interface HomeClients {
  readonly sts: STSClient;
  readonly ssm: SSMClient;
  readonly cloudFormation: CloudFormationClient;
  readonly organizations: OrganizationsClient;
  /** Reads the version of `falcon.credentials.secretArn` (a home-region secret). */
  readonly secretsManager: SecretsManagerClient;
  /** An SSM client for another region of the home account (created once per region). */
  readonly ssmFor: (region: string) => SSMClient;
  /** Reads trails and their event selectors (EKS Protection's organization trail check). */
  readonly cloudTrail: CloudTrailClient;
}

/** Creates the home-region clients; pass them around instead of creating clients deep inside core code. */
export function createHomeClients(settings: AwsClientSettings): HomeClients {
  const ssm = createClient(SSMClient, settings);
  const regional = new Map<string, SSMClient>([[settings.region, ssm]]);
  return {
    sts: createClient(STSClient, settings),
    ssm,
    ssmFor: (region) => {
      let client = regional.get(region);
      if (!client) {
        client = createClient(SSMClient, { ...settings, region });
        regional.set(region, client);
      }
      return client;
    },
    cloudFormation: createClient(CloudFormationClient, settings),
    organizations: createClient(OrganizationsClient, settings),
    secretsManager: createClient(SecretsManagerClient, settings),
    cloudTrail: createClient(CloudTrailClient, settings),
  };
}

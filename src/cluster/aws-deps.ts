/**
 * The deployer's adapters, created in one place: STS (the member execution role, refreshed before
 * it expires), EKS in the cluster's region, S3 (the pinned manifest from the artifact bucket),
 * DynamoDB (the runs table), and the Kubernetes client with a renewing EKS token. Every AWS client
 * honours the SDK's own endpoint settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoRunsTable } from '../eks/runs-table.js';
import { describeError } from '../shared/describe-error.js';
import type { DeployerEnvironment } from './environment.js';
import { ManifestError } from './errors.js';
import { KubeClient } from './kube-client.js';
import type { ManifestSource } from './manifest.js';
import { mirrorFromFalcon } from './mirror-wiring.js';
import type { DeployerDeps } from './run.js';
import { TokenSource, type AwsIdentity } from './token.js';
import { systemClock } from './wait.js';

/** Reads the manifest `deploy` uploaded to the artifact bucket. */
export class S3ManifestSource implements ManifestSource {
  constructor(private readonly s3: S3Client) {}
  async read(bucket: string, key: string): Promise<Uint8Array> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!object.Body) throw new ManifestError(`s3://${bucket}/${key} is empty`);
      return await object.Body.transformToByteArray();
    } catch (error) {
      if (error instanceof ManifestError) throw error;
      throw new ManifestError(
        `cannot read the operator manifest s3://${bucket}/${key} (${describeError(error)}); run "falcon-org deploy" to upload it`,
        { cause: error },
      );
    }
  }
}

/** Memoises assume-role credentials and asks again 5 minutes before they expire. */
export function refreshingCredentials(
  provider: () => Promise<AwsIdentity & { expiration?: Date }>,
  now: () => number = Date.now,
): () => Promise<AwsIdentity> {
  let cached: (AwsIdentity & { expiration?: Date }) | undefined;
  return async () => {
    if (!cached || (cached.expiration !== undefined && cached.expiration.getTime() - now() < 5 * 60_000)) {
      cached = await provider();
    }
    return cached;
  };
}

/** What a caller other than CodeBuild (the CLI) supplies instead of the defaults. */
export interface DeployerWiringOptions {
  /** Credentials to act with in the member account. @default assume `request.executionRoleArn` */
  readonly memberCredentials?: () => Promise<AwsIdentity & { expiration?: Date }>;
  /** Who talks to Kubernetes (gets the access entry). @default `request.executionRoleArn` */
  readonly principalArn?: string;
  /** @default the artifact bucket through S3 */
  readonly manifests?: ManifestSource;
}

export function createDeployerDeps(
  env: DeployerEnvironment,
  log: (line: string) => void,
  options: DeployerWiringOptions = {},
): DeployerDeps {
  const { request, settings } = env;
  const memberCredentials =
    options.memberCredentials ??
    fromTemporaryCredentials({
      params: {
        RoleArn: request.executionRoleArn,
        RoleSessionName: `falcon-org-deployer-${request.runId}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64),
        DurationSeconds: 3600,
      },
      clientConfig: { region: settings.homeRegion },
    });
  const credentials = refreshingCredentials(() => memberCredentials());
  const eks = new EKSClient({ region: request.region, credentials: credentials });
  const runs = env.runsTable
    ? new DynamoRunsTable(
        DynamoDBDocumentClient.from(new DynamoDBClient({ region: settings.homeRegion })),
        env.runsTable,
      )
    : undefined;
  return {
    eks,
    principalArn: options.principalArn ?? request.executionRoleArn,
    kubeClient: (cluster) =>
      new KubeClient({
        server: cluster.endpoint,
        caPem: cluster.caPem,
        token: new TokenSource({ cluster: request.cluster, region: request.region, credentials }),
      }),
    manifests: options.manifests ?? new S3ManifestSource(new S3Client({ region: settings.homeRegion })),
    credentials: () =>
      Promise.resolve({
        clientId: env.clientId,
        clientSecret: env.clientSecret,
        ...(settings.falcon.cid !== undefined ? { cid: settings.falcon.cid } : {}),
      }),
    ...(runs ? { runs } : {}),
    ...(settings.mirrorImages.enabled
      ? {
          mirrorImages: mirrorFromFalcon(settings, request.compute, {
            clientId: env.clientId,
            clientSecret: env.clientSecret,
          }),
        }
      : {}),
    clock: systemClock,
    log,
  };
}

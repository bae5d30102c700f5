import {
  CreateRepositoryCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  SetRepositoryPolicyCommand,
  type ECRClientConfig,
} from '@aws-sdk/client-ecr';
import { createFalconClient } from '../falcon/client.js';
import { fetchCcid, fetchRegistryPullToken, registryPullUser } from '../falcon/container-images.js';
import { OciRegistryClient } from '../registry/client.js';
import type { ComputeMode } from '../eks/run-contract.js';
import type { ImageOverrides } from './custom-resources.js';
import { ClusterError } from './errors.js';
import { falconRegistry, mirrorFalconImages } from './mirror.js';
import type { DeployerRunSettings } from './settings.js';

/**
 * Production wiring of image mirroring: CID and pull token from the Falcon API, CrowdStrike's
 * registry as `fc-<cid>`, the home account's ECR (the CodeBuild role's credentials) as target.
 */
export function mirrorFromFalcon(
  settings: DeployerRunSettings,
  compute: ComputeMode,
  falconCredentials: { clientId: string; clientSecret: string },
  ecrConfig: ECRClientConfig = { region: settings.homeRegion },
): () => Promise<ImageOverrides> {
  return async () => {
    const falcon = createFalconClient({
      cloud: settings.falcon.cloud,
      ...(settings.falcon.baseUrl !== undefined ? { baseUrl: settings.falcon.baseUrl } : {}),
      credentials: falconCredentials,
    });
    let ccid: string;
    let pullToken: string;
    try {
      ccid = settings.falcon.cid ?? (await fetchCcid(falcon.api));
      pullToken = await fetchRegistryPullToken(falcon.api);
    } finally {
      await falcon.close();
    }
    const registry = falconRegistry(settings.falcon.cloud);
    const source = new OciRegistryClient({
      url: registry.url,
      credentials: { username: registryPullUser(ccid), password: pullToken },
    });
    const ecr = new ECRClient(ecrConfig);
    const auth = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0];
    const decoded = Buffer.from(auth?.authorizationToken ?? '', 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    if (!auth?.proxyEndpoint || separator < 0) throw new ClusterError('ECR returned no authorization token');
    const target = new OciRegistryClient({
      url: auth.proxyEndpoint,
      credentials: { username: decoded.slice(0, separator), password: decoded.slice(separator + 1) },
    });
    try {
      return await mirrorFalconImages(
        {
          source,
          sourceRegion: registry.region,
          target,
          targetHost: new URL(auth.proxyEndpoint).host,
          ensureRepository: (name) =>
            ensureMirrorRepository(ecr, name, settings.mirrorImages.pullOrganizationId),
        },
        compute,
        settings,
      );
    } finally {
      source.close();
      target.close();
    }
  };
}

/**
 * Creates the mirror repository in the home account's ECR (an existing one is fine) and, with an
 * organization ID, sets a policy letting principals of the organization pull from it: the nodes of
 * member accounts pull the mirrored sensor images cross-account, which ECR refuses without one.
 */
export async function ensureMirrorRepository(
  ecr: ECRClient,
  name: string,
  pullOrganizationId: string | undefined,
): Promise<void> {
  try {
    await ecr.send(
      new CreateRepositoryCommand({ repositoryName: name, imageScanningConfiguration: { scanOnPush: true } }),
    );
  } catch (error) {
    if (!(error instanceof Error && error.name === 'RepositoryAlreadyExistsException')) throw error;
  }
  if (pullOrganizationId === undefined) return;
  await ecr.send(
    new SetRepositoryPolicyCommand({
      repositoryName: name,
      policyText: JSON.stringify(mirrorPullPolicy(pullOrganizationId)),
    }),
  );
}

/** Pull-only access for every principal of the organization (PutImage stays with the home account). */
export function mirrorPullPolicy(organizationId: string): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OrganizationPull',
        Effect: 'Allow',
        Principal: '*',
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        Condition: { StringEquals: { 'aws:PrincipalOrgID': organizationId } },
      },
    ],
  };
}

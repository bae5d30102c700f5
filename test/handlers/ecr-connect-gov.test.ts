import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FALCON_CLOUD_NAMES, type FalconCloud } from '../../src/config/clouds.js';
import { registryassessmentExternalRegistryPayload } from '../fakes/falcon/schemas.js';
import { ACCOUNT, EcrConnectHarness, EXTERNAL_ID, FALCON_SECRET } from './ecr-connect-harness.js';
import { captureLogs } from '../shared/log-capture.js';

/*
 * The create body each AWS partition × Falcon cloud sends, end to end: the handler reads its partition
 * from its own ARN and the cloud from the Falcon secret, and the Falcon stand-in records the body.
 * Expected bodies are CrowdStrike's registration Lambda's (CrowdStrike/cloud-registry-connections):
 * commercial to commercial the documented body; a government cloud on either side adds
 * all_repositories_monitored and credential.type, and the crossing flag (true only when the sides
 * differ). README "ECR with a government Falcon cloud" gives the sources.
 */

const GOV_FALCON = new Set<FalconCloud>(['us-gov-1', 'us-gov-2']);

const cases = (['aws', 'aws-us-gov'] as const).flatMap((partition) =>
  FALCON_CLOUD_NAMES.map((cloud) => ({ partition, cloud })),
);

function expectedBody(partition: 'aws' | 'aws-us-gov', cloud: FalconCloud, region: string) {
  const role = `arn:${partition}:iam::${ACCOUNT}:role/falcon-org-ecr-connection`;
  const url = `https://${ACCOUNT}.dkr.ecr.${region}.amazonaws.com`;
  const alias = `falcon-org prod ${ACCOUNT} ${region}`;
  const govAws = partition === 'aws-us-gov';
  const govFalcon = GOV_FALCON.has(cloud);
  const details = { aws_iam_role: role, aws_external_id: EXTERNAL_ID };
  if (!govAws && !govFalcon) return { type: 'ecr', url, user_defined_alias: alias, credential: { details } };
  return {
    all_repositories_monitored: true,
    type: 'ecr',
    url,
    user_defined_alias: alias,
    credential: {
      type: 'ecr',
      details: { ...details, aws_gov_using_commercial_connection: govAws !== govFalcon },
    },
  };
}

describe('ecr-connect: the create body per AWS partition × Falcon cloud', () => {
  let h: EcrConnectHarness;
  beforeEach(async () => {
    h = await EcrConnectHarness.start();
    captureLogs();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await h.close();
  });

  it.each(cases)('$partition account, Falcon $cloud', async ({ partition, cloud }) => {
    // Prepare
    const region = partition === 'aws' ? 'us-east-1' : 'us-gov-west-1';
    h.partition = partition;
    h.envOverrides = {
      CONNECTION_ROLE_ARN: `arn:${partition}:iam::${ACCOUNT}:role/falcon-org-ecr-connection`,
    };
    h.secrets.set(
      FALCON_SECRET,
      JSON.stringify({
        ClientId: h.falcon.credentials.clientId,
        ClientSecret: h.falcon.credentials.clientSecret,
        Cloud: cloud,
        BaseUrl: h.falcon.baseUrl,
      }),
    );
    // Act
    const answer = await h.invoke(
      h.event('Create', {
        DeploymentId: 'prod',
        Regions: [region],
        DisconnectOnDelete: 'true',
        ConfigHash: 'h1',
      }),
    );
    // Assess
    expect(answer.Status).toBe('SUCCESS');
    const sent = h.falcon.requestsTo('registries.create');
    expect(sent).toHaveLength(1);
    const body: unknown = JSON.parse(sent[0]?.bodyText ?? '');
    expect(body).toEqual(expectedBody(partition, cloud, region));
    // The exact JSON key and a JSON boolean, never a string.
    if (partition === 'aws-us-gov' || GOV_FALCON.has(cloud)) {
      expect(sent[0]?.bodyText).toMatch(/"aws_gov_using_commercial_connection":(true|false)[,}]/);
    } else {
      expect(sent[0]?.bodyText).not.toContain('aws_gov_using_commercial_connection');
    }
    // A body the transcribed request schema accepts, and the stand-in stored it.
    expect(registryassessmentExternalRegistryPayload.safeParse(body).success).toBe(true);
    expect(h.falcon.connections()).toHaveLength(1);
  });
});

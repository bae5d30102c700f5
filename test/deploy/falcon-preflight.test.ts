import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHomeClients } from '../../src/aws/clients.js';
import { PreflightError } from '../../src/deploy/errors.js';
import { checkFalconClients } from '../../src/deploy/falcon-preflight.js';
import { createProgress } from '../../src/deploy/progress.js';
import { runDeploy } from '../../src/deploy/run-deploy.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import { captureOutput, mockAws, RecordingDeployer, testConfig } from './helpers.js';

/*
 * deploy's pre-flight probes each Falcon API client with one cheap read per read scope its features
 * need: a client /oauth2/token refuses is "rejected", never a missing scope; a 403 to a read is that
 * scope missing, named with the setting and the features that use the client.
 */

const COVERAGE_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:falcon-coverage-AbCdEf';

let falcon: FakeFalconServer;
beforeAll(async () => {
  falcon = await FakeFalconServer.start();
});
afterAll(async () => {
  await falcon.close();
});

/** SSM (shared client, from the environment), EKS (own client, environment), coverage (own client, secret). */
function withFalcon(eks = true) {
  const base = testConfig(
    [...(eks ? ['  eksProtection: { enabled: true }'] : []), 'coverage: { enabled: true }', ''].join('\n'),
  );
  return {
    ...base,
    falcon: {
      ...base.falcon,
      baseUrl: falcon.baseUrl,
      clients: {
        eksProtection: { source: 'environment' as const },
        coverage: { source: 'secretsManager' as const, secretArn: COVERAGE_SECRET },
      },
    },
    derived: { ...base.derived, falconBaseUrl: falcon.baseUrl },
  };
}

function secretsHolding(values: Record<string, unknown>) {
  return {
    getSecretString: (id: string) => {
      const value = values[id];
      if (value === undefined) return Promise.reject(new Error(`no secret ${id}`));
      return Promise.resolve(JSON.stringify(value));
    },
  };
}

describe('the Falcon pre-flight', () => {
  it('names the missing scope and the setting, and says what it could not probe', async () => {
    const shared = falcon.addClient('shared-ok', ['Sensor Download: Read', 'Sensor Update Policies: Read']);
    const eks = falcon.addClient('eks-ok', ['Falcon Images Download: Read', 'Sensor Download: Read']);
    // The coverage client was made without "Hosts: Read".
    const coverage = falcon.addClient('coverage-short', ['Falcon Container Image: Read']);
    const findings = await checkFalconClients(
      withFalcon(),
      {
        FALCON_CLIENT_ID: shared.clientId,
        FALCON_CLIENT_SECRET: shared.clientSecret,
        FALCON_EKS_CLIENT_ID: eks.clientId,
        FALCON_EKS_CLIENT_SECRET: eks.clientSecret,
      },
      {
        secrets: secretsHolding({
          [COVERAGE_SECRET]: { ClientId: coverage.clientId, ClientSecret: coverage.clientSecret },
        }),
      },
    );

    const byLevel = (severity: string) =>
      findings.filter((f) => f.severity === severity).map((f) => f.message);
    expect(byLevel('error')).toEqual([
      'falcon.clients.coverage (used by coverage): the API client lacks "Hosts: Read"; add this scope to the client in the Falcon console (Support and resources › API clients and keys)',
    ]);
    expect(byLevel('ok')).toEqual([
      'falcon.credentials (used by ssmDistributor): Sensor Download: Read, Sensor Update Policies: Read granted',
      'falcon.clients.eksProtection (used by eksProtection): Falcon Images Download: Read, Sensor Download: Read granted',
    ]);
    expect(JSON.stringify(findings)).not.toContain(coverage.clientSecret);
  });

  it('a client /oauth2/token refuses (wrong secret, revoked) is rejected credentials, not a missing scope', async () => {
    const eks = falcon.addClient('eks-revoked', ['Falcon Images Download: Read', 'Sensor Download: Read']);
    falcon.revokeClient(eks.clientId);
    const findings = await checkFalconClients(
      withFalcon(),
      {
        FALCON_CLIENT_ID: falcon.credentials.clientId,
        FALCON_CLIENT_SECRET: 'not-the-secret',
        FALCON_EKS_CLIENT_ID: eks.clientId,
        FALCON_EKS_CLIENT_SECRET: eks.clientSecret,
      },
      { secrets: secretsHolding({}) },
    );
    const errors = findings.filter((f) => f.severity === 'error');
    expect(errors.map((f) => f.message.split(':')[0])).toEqual([
      'falcon.credentials (used by ssmDistributor)',
      'falcon.clients.eksProtection (used by eksProtection)',
    ]);
    for (const e of errors) {
      expect(e.message).toContain('Falcon rejected the API client itself');
      expect(e.message).toContain('HTTP 401');
      expect(e.message).not.toMatch(/lacks|Hosts: Read/);
    }
    // The coverage secret could not be read: a warning naming it, not a guess.
    expect(findings.filter((f) => f.severity === 'warning').map((f) => f.message)).toEqual([
      expect.stringContaining(
        `falcon.clients.coverage (used by coverage): could not read the client to probe it`,
      ),
    ]);
  });

  describe('through deploy', () => {
    const aws = mockAws();
    beforeEach(() => aws.healthy());
    afterEach(() => aws.reset());

    it('stops before deploying anything when a client lacks a scope its feature needs', async () => {
      const coverage = falcon.addClient('coverage-no-hosts', ['Falcon Container Image: Read']);
      const output = captureOutput();
      const deployer = new RecordingDeployer();
      const error = await runDeploy(
        withFalcon(false),
        { yes: true },
        {
          deployer,
          clients: createHomeClients({ region: 'us-east-1' }),
          env: {
            FALCON_CLIENT_ID: falcon.credentials.clientId,
            FALCON_CLIENT_SECRET: falcon.credentials.clientSecret,
          },
          progress: createProgress(output),
          falconProbe: {
            secrets: secretsHolding({
              [COVERAGE_SECRET]: { ClientId: coverage.clientId, ClientSecret: coverage.clientSecret },
            }),
          },
        },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PreflightError);
      expect((error as Error).message).toContain(
        'falconClient: falcon.clients.coverage (used by coverage): the API client lacks "Hosts: Read"',
      );
      expect(deployer.deploys).toHaveLength(0);
    });
  });
});

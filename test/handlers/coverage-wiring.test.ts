import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCoverageReport } from '../../src/coverage/build.js';
import type { CoverageReport } from '../../src/coverage/model.js';
import { createCoverageHandler } from '../../src/handlers/coverage.js';
import { EXCLUDED, NOW, REGIONS, ROOT, buildFixture, RUNS_TABLE, type Fixture } from '../coverage/fixture.js';
import {
  ASSOCIATION_NAME,
  DEPLOYMENT_ID,
  HOME_REGION,
  OWNERSHIP_PARAMETER,
  READ_ROLE,
} from '../coverage/org-harness.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import { CoverageHarness, functionEnv, lambdaContext, SCHEDULED_EVENT } from './coverage-harness.js';

/**
 * The function with its real wiring (the default services: SDK clients created by the module, the
 * Falcon HTTP client): AWS faked with aws-sdk-client-mock (the coverage tests' organization, runs
 * table, Secrets Manager, S3, CloudWatch), Falcon by the stand-in. Only the environment is given.
 */
describe('coverage function, real wiring', () => {
  let fake: FakeFalconServer;
  let fx: Fixture;
  let harness: CoverageHarness;
  const secrets = mockClient(SecretsManagerClient);
  const saved = process.env.AWS_REGION;

  beforeAll(async () => {
    fake = await FakeFalconServer.start();
    fx = await buildFixture(fake);
    harness = new CoverageHarness('reports-bucket');
    process.env.AWS_REGION = HOME_REGION;
  });
  afterEach(() => {
    secrets.reset();
    vi.useRealTimers();
  });
  afterAll(async () => {
    fx.restore();
    harness.reset();
    secrets.restore();
    await fake.close();
    if (saved === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = saved;
  });

  it('reads the secret (client only), the organization, Falcon and the runs table, then publishes the same report the CLI builds', async () => {
    // Prepare: a secretsManager-style secret holds the client and nothing else
    secrets
      .on(GetSecretValueCommand, {
        SecretId: 'arn:aws:secretsmanager:us-east-1:999999999999:secret:falcon-x',
      })
      .resolves({
        SecretString: JSON.stringify({
          ClientId: fake.credentials.clientId,
          ClientSecret: fake.credentials.clientSecret,
        }),
      });
    const settings = {
      partition: 'aws',
      homeRegion: HOME_REGION,
      targets: [ROOT],
      excludeAccounts: [EXCLUDED],
      features: { ssmDistributor: REGIONS, ecrConnections: 'enabled', eksProtection: REGIONS },
      falcon: { cloud: 'us-1', baseUrl: fake.baseUrl },
      associationName: ASSOCIATION_NAME,
      deploymentId: DEPLOYMENT_ID,
      readRoleName: READ_ROLE,
      ownershipParameterName: OWNERSHIP_PARAMETER,
      concurrency: 4,
      hostStaleAfterHours: 24,
    };
    const env = functionEnv({
      FALCON_ORG_COVERAGE_SETTINGS: JSON.stringify(settings),
      FALCON_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:999999999999:secret:falcon-x',
      FALCON_ORG_RUNS_TABLE: RUNS_TABLE,
    });
    const tokensBefore = fake.tokens().length;
    // The function reads the system clock: set it to the fixture's time (Date only; timers run).
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    // Act
    const summary = await createCoverageHandler({ env })(SCHEDULED_EVENT, lambdaContext());
    // The Falcon token the run used was revoked when it ended.
    const issued = fake.tokens().slice(tokensBefore);
    expect(issued.length).toBeGreaterThan(0);
    expect(issued.every((t) => t.revoked)).toBe(true);
    // Assess: the stored report is the one the core builds from the same organization
    const stored = JSON.parse(harness.object('latest.json') ?? '') as CoverageReport;
    const direct = await buildCoverageReport(fx.deps, { ...fx.options, scope: stored.scope });
    expect(stored.cells).toEqual(direct.cells.map(({ items: _items, ...c }) => c));
    expect(stored.accounts).toEqual(direct.accounts);
    expect(stored.scope.homeAccountId).toBe('999999999999');
    expect(summary).toMatchObject({ trigger: 'schedule', accounts: 3, unreadableAccounts: 1, cells: 17 });
    expect(harness.object('latest.html')).toMatch(/^<!doctype html>/);
    const unknownSsm = harness.metrics.find(
      (m) => m.datum.MetricName === 'UnknownCells' && m.datum.Dimensions?.[0]?.Value === 'ssmDistributor',
    );
    expect(unknownSsm?.datum.Value).toBe(
      stored.cells.filter((c) => c.feature === 'ssmDistributor' && c.state === 'unknown').length,
    );
  });

  it('fails before reading anything when the secret lacks the client secret, naming the key only', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ ClientId: 'visible-id' }) });
    const env = functionEnv({
      FALCON_ORG_COVERAGE_SETTINGS: JSON.stringify({
        partition: 'aws',
        homeRegion: HOME_REGION,
        targets: [ROOT],
        excludeAccounts: [],
        features: { ssmDistributor: REGIONS },
        falcon: { cloud: 'us-1', baseUrl: fake.baseUrl },
        associationName: ASSOCIATION_NAME,
        deploymentId: DEPLOYMENT_ID,
        readRoleName: READ_ROLE,
        ownershipParameterName: OWNERSHIP_PARAMETER,
        concurrency: 4,
        hostStaleAfterHours: 24,
      }),
    });
    const calls = fx.org.calls.length;
    const error = await createCoverageHandler({ env })(SCHEDULED_EVENT, lambdaContext()).catch(
      (e: unknown) => e,
    );
    // The key, then the fix (no value).
    expect((error as Error).message).toMatch(
      /lacks "ClientSecret" \(expected non-empty strings\); store the API client as a JSON object/,
    );
    expect((error as Error).message).not.toContain('visible-id');
    expect(fx.org.calls.length).toBe(calls);
  });
});

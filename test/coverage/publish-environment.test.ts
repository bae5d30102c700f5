import { describe, expect, it } from 'vitest';
import { readCoverageEnvironment } from '../../src/coverage/publish-environment.js';
import { CoveragePublishError } from '../../src/coverage/publish-errors.js';
import { functionEnv, SETTINGS } from '../handlers/coverage-harness.js';

const withSettings = (settings: Record<string, unknown>) =>
  functionEnv({ FALCON_ORG_COVERAGE_SETTINGS: JSON.stringify(settings) });

describe('coverage function environment', () => {
  it('reads what the infrastructure sets', () => {
    expect(readCoverageEnvironment(functionEnv({ FALCON_ORG_RUNS_TABLE: 'runs' }))).toEqual({
      settings: SETTINGS,
      falconSecretId: 'arn:aws:secretsmanager:eu-west-1:999999999999:secret:falcon-abc123',
      bucket: 'reports-bucket',
      metricNamespace: 'FalconOrg/Coverage',
      runsTable: 'runs',
    });
  });

  it('reads whether the deployment reaches the management account; settings made before it have none', () => {
    for (const managementAccount of ['root-stack', 'delegated-admin', 'not-targeted']) {
      expect(readCoverageEnvironment(withSettings({ ...SETTINGS, managementAccount })).settings).toEqual({
        ...SETTINGS,
        managementAccount,
      });
    }
    expect(readCoverageEnvironment(withSettings(SETTINGS)).settings.managementAccount).toBeUndefined();
    expect(() => readCoverageEnvironment(withSettings({ ...SETTINGS, managementAccount: 'yes' }))).toThrow(
      'FALCON_ORG_COVERAGE_SETTINGS.managementAccount must be one of root-stack, delegated-admin, not-targeted',
    );
  });

  it('names each bad setting, all at once', () => {
    const attempt = () =>
      readCoverageEnvironment(
        withSettings({
          ...SETTINGS,
          falcon: { cloud: 'mars-1' },
          features: { ssmDistributor: [], catalog: 'enabled' },
          concurrency: 0,
          hostStaleAfterHours: 1.5,
          targets: 'r-ab12',
        }),
      );
    expect(attempt).toThrow(CoveragePublishError);
    expect(attempt).toThrow(
      'invalid function environment: FALCON_ORG_COVERAGE_SETTINGS.falcon.cloud must be a Falcon cloud (us-1, us-2, eu-1, us-gov-1, us-gov-2); ' +
        'FALCON_ORG_COVERAGE_SETTINGS.targets must be a list of strings; ' +
        'FALCON_ORG_COVERAGE_SETTINGS.concurrency must be an integer from 1 to 64; ' +
        'FALCON_ORG_COVERAGE_SETTINGS.hostStaleAfterHours must be a positive integer (coverage.hostStaleAfterHours); ' +
        'FALCON_ORG_COVERAGE_SETTINGS.features.ssmDistributor must be "enabled" or a list of regions; ' +
        'FALCON_ORG_COVERAGE_SETTINGS.features.catalog is not a feature',
    );
    expect(() => readCoverageEnvironment(functionEnv({ FALCON_ORG_COVERAGE_SETTINGS: '{' }))).toThrow(
      'invalid function environment: FALCON_ORG_COVERAGE_SETTINGS is not valid JSON',
    );
    expect(() =>
      readCoverageEnvironment(withSettings({ ...SETTINGS, falcon: { cloud: 'us-1', baseUrl: 'ftp://x' } })),
    ).toThrow('FALCON_ORG_COVERAGE_SETTINGS.falcon.baseUrl must be an http(s) URL');
  });
});

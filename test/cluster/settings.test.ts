import { describe, expect, it } from 'vitest';
import {
  DEFAULT_OPERATOR,
  FALCON_CONTAINER_INJECTION_LABEL,
  eksDeployerSchema,
} from '../../src/config/eks-deployer-schema.js';
import { validateConfig } from '../../src/config/load.js';
import { deployerRunSettings, parseDeployerRunSettings } from '../../src/cluster/settings.js';
import { PROJECT_ENV } from '../../src/eks/run-contract.js';

const base = {
  falcon: { cloud: 'us-gov-2', credentials: { source: 'environment' } },
  aws: { partition: 'aws', homeRegion: 'us-east-1' },
  organization: { id: 'o-a1b2c3d4e5', targets: ['r-abcd'] },
};

describe('deployer settings', () => {
  it('defaults to the pinned v1.13.0 manifest with its checksum, nothing widened, entry removed', () => {
    const parsed = eksDeployerSchema.parse({});
    expect(parsed.operator).toEqual(DEFAULT_OPERATOR);
    expect(parsed.operator.manifestSha256).toBe(
      'a395e36417f7975cfc2fe7f2996e0f233dc85acbe73a180d1999697795af5e0d',
    );
    expect(parsed).toMatchObject({
      keepAccessEntry: false,
      allowListEgress: false,
      mirrorImages: { enabled: false },
    });
  });

  it('names the field and the fix for "latest", a version without checksum and a bad CIDR', () => {
    let error: unknown;
    try {
      validateConfig({
        ...base,
        features: {
          eksProtection: {
            deployer: {
              operator: { version: 'latest' },
              egressCidrs: ['203.0.113.10'],
              admission: { replicas: 0 },
            },
          },
        },
      });
    } catch (e) {
      error = e;
    }
    const text = String(error);
    expect(text).toContain('features.eksProtection.deployer.operator.version');
    expect(text).toContain('never "latest"');
    expect(text).toContain('features.eksProtection.deployer.operator.manifestSha256');
    expect(text).toContain('features.eksProtection.deployer.egressCidrs');
    expect(text).toContain('expected at least 1 replica');
  });

  it('round-trips through the JSON the CodeBuild project carries', () => {
    const config = validateConfig({
      ...base,
      features: {
        eksProtection: {
          enabled: true,
          sensor: 'kernel',
          deployer: { allowListEgress: true, egressCidrs: ['203.0.113.10/32'] },
        },
      },
    });
    const settings = deployerRunSettings({
      partition: 'aws',
      homeAccountId: '999988887777',
      homeRegion: 'us-east-1',
      falcon: { cloud: config.falcon.cloud },
      sensor: config.features.eksProtection.sensor,
      admissionController: config.features.eksProtection.admissionController,
      deployer: config.features.eksProtection.deployer,
      manifestBucket: 'artifacts',
      manifestKey: 'deployer/operator/v1.13.0/falcon-operator.yaml',
    });
    expect(parseDeployerRunSettings(JSON.stringify(settings))).toEqual(settings);
    expect(settings).toMatchObject({
      falcon: { cloud: 'us-gov-2' },
      nodeSensor: { backend: 'kernel' },
      allowListEgress: true,
    });
  });

  it("fargateInjectionLabel: only the operator's fixed opt-in key is accepted (another would do nothing)", () => {
    let error: unknown;
    try {
      validateConfig({
        ...base,
        features: { eksProtection: { deployer: { fargateInjectionLabel: 'example.com/falcon-sidecar' } } },
      });
    } catch (e) {
      error = e;
    }
    const text = String(error);
    expect(text).toContain('features.eksProtection.deployer.fargateInjectionLabel');
    expect(text).toContain('sensor.falcon-system.crowdstrike.com/injection');
    expect(text).toContain('remove fargateInjectionLabel');
    expect(eksDeployerSchema.parse({}).fargateInjectionLabel).toBe(FALCON_CONTAINER_INJECTION_LABEL);
    expect(
      eksDeployerSchema.parse({ fargateInjectionLabel: FALCON_CONTAINER_INJECTION_LABEL })
        .fargateInjectionLabel,
    ).toBe(FALCON_CONTAINER_INJECTION_LABEL);
    // Settings carried to a run with another key (an older build) are refused, not silently ignored.
    const config = validateConfig({ ...base, features: { eksProtection: { enabled: true } } });
    const settings = deployerRunSettings({
      partition: 'aws',
      homeAccountId: '999988887777',
      homeRegion: 'us-east-1',
      falcon: { cloud: config.falcon.cloud },
      sensor: config.features.eksProtection.sensor,
      admissionController: config.features.eksProtection.admissionController,
      deployer: config.features.eksProtection.deployer,
      manifestBucket: 'artifacts',
      manifestKey: 'deployer/operator/v1.13.0/falcon-operator.yaml',
    });
    expect(() =>
      parseDeployerRunSettings(JSON.stringify({ ...settings, fargateInjectionLabel: 'example.com/x' })),
    ).toThrow(/fargateInjectionLabel/);
  });

  it('a missing or malformed settings variable names it', () => {
    expect(() => parseDeployerRunSettings(undefined, PROJECT_ENV.settings)).toThrow(
      /FALCON_ORG_DEPLOYER_SETTINGS: missing/,
    );
    expect(() => parseDeployerRunSettings('{"partition":"aws"}', PROJECT_ENV.settings)).toThrow(
      /homeAccountId/,
    );
  });
});

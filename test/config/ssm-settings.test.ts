import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { configWarnings } from '../../src/config/warnings.js';
import { problemsIn } from './helpers.js';

const base = `
falcon: { cloud: us-1 }
aws: { partition: aws, homeRegion: us-east-1 }
organization: { id: o-a1b2c3d4e5, targets: [r-ab12] }
features:
  ssmDistributor:
    enabled: true
`;

const withSsm = (...lines: string[]) => base + lines.map((l) => `    ${l}\n`).join('');

const problems = problemsIn;

describe('SSM Distributor settings: install options', () => {
  it('accepts installer flags, package versions and a compliance severity', () => {
    const config = parseConfigText(
      withSsm(
        `linuxInstallerParams: '--tags="Washington/DC_USA,Production" --aph=proxy.example.com --app=8080'`,
        `windowsInstallerParams: 'GROUPING_TAGS="Production" APP_PROXYNAME=proxy.example.com APP_PROXYPORT=8080'`,
        'linuxPackageVersion: "7.04.17600"',
        'windowsPackageVersion: "7.05.17706"',
        'complianceSeverity: CRITICAL',
      ),
      'ok.yaml',
    );
    expect(config.features.ssmDistributor).toMatchObject({
      linuxInstallerParams: '--tags="Washington/DC_USA,Production" --aph=proxy.example.com --app=8080',
      windowsInstallerParams: 'GROUPING_TAGS="Production" APP_PROXYNAME=proxy.example.com APP_PROXYPORT=8080',
      linuxPackageVersion: '7.04.17600',
      windowsPackageVersion: '7.05.17706',
      complianceSeverity: 'CRITICAL',
    });
  });

  it('leaves them unset by default (the document installs N-1 with no flags)', () => {
    const ssm = parseConfigText(base, 'min.yaml').features.ssmDistributor;
    expect(ssm.linuxInstallerParams).toBeUndefined();
    expect(ssm.windowsInstallerParams).toBeUndefined();
    expect(ssm.linuxPackageVersion).toBeUndefined();
    expect(ssm.windowsPackageVersion).toBeUndefined();
    expect(ssm.complianceSeverity).toBeUndefined();
  });

  it.each([
    [
      'linuxInstallerParams',
      '--cid=0123456789ABCDEF0123456789ABCDEF-12 --tags=prod',
      'a CID (--cid)',
      '0123456789ABCDEF',
    ],
    [
      'windowsInstallerParams',
      'CID=0123456789ABCDEF0123456789ABCDEF-12 GROUPING_TAGS=prod',
      'a CID (CID)',
      '0123456789ABCDEF',
    ],
    [
      'linuxInstallerParams',
      '--provisioning-token=1a2b3c4d --tags=prod',
      'an installation token',
      '1a2b3c4d',
    ],
    [
      'windowsInstallerParams',
      '/install ProvToken=1a2b3c4d',
      'an installation token (ProvToken)',
      '1a2b3c4d',
    ],
    ['windowsInstallerParams', 'MAINTENANCE_TOKEN=s3cr3t-token', 'a maintenance token', 's3cr3t-token'],
    [
      'linuxInstallerParams',
      '--aph=http://proxyuser:Pa55word@proxy.example.com --app=8080',
      'a password in a URL',
      'Pa55word',
    ],
    ['linuxInstallerParams', '--tags=x 0123456789abcdef0123456789abcdef', 'a CID', '0123456789abcdef0123'],
  ])('refuses a secret in %s (%s), naming it without printing it', (field, value, what, secret) => {
    const found = problems(withSsm(`${field}: '${value}'`));
    expect(found).toHaveLength(1);
    const [problem] = found;
    expect(problem?.path).toBe(`features.ssmDistributor.${field}`);
    expect(problem?.expected).toContain(`expected installer flags without secrets: ${what}`);
    expect(problem?.expected).toMatch(/remove it|proxy that does not need credentials/);
    expect(problem?.given).toContain('<withheld>');
    expect(JSON.stringify(problem)).not.toContain(secret);
  });

  it.each([
    ['linuxPackageVersion', '"latest"', 'expected a sensor version such as "7.04.17600"'],
    ['windowsPackageVersion', '"7"', 'expected a sensor version such as "7.04.17600"'],
    ['complianceSeverity', 'SEVERE', 'expected one of CRITICAL, HIGH, MEDIUM, LOW, UNSPECIFIED'],
    ['linuxInstallerParams', '"--tags=a\\n--aph=b"', 'expected the Linux installer flags on one line'],
  ])('refuses a malformed %s with the field and the fix', (field, value, expected) => {
    const [problem] = problems(withSsm(`${field}: ${value}`));
    expect(problem?.path).toBe(`features.ssmDistributor.${field}`);
    expect(problem?.expected).toContain(expected);
  });
});

describe('SSM Distributor settings: document version', () => {
  it("defaults to $DEFAULT (CrowdStrike's recommendation) and keeps a pinned version", () => {
    expect(parseConfigText(base, 'a.yaml').features.ssmDistributor.documentVersion).toBe('$DEFAULT');
    expect(
      parseConfigText(withSsm("documentVersion: '4'"), 'b.yaml').features.ssmDistributor.documentVersion,
    ).toBe('4');
  });

  it.each(['1', '2'])('warns on retired version %s and names the fix', (version) => {
    const warnings = configWarnings(parseConfigText(withSsm(`documentVersion: '${version}'`), 'c.yaml'));
    expect(warnings.map((w) => w.path)).toEqual(['features.ssmDistributor.documentVersion']);
    expect(warnings[0]?.message).toContain(`version ${version} of CrowdStrike-FalconSensorDeploy is retired`);
    expect(warnings[0]?.message).toContain('remove the setting to use "$DEFAULT"');
  });

  it.each(['3', '5', '$DEFAULT', '$LATEST'])('does not warn on %s', (version) => {
    expect(configWarnings(parseConfigText(withSsm(`documentVersion: '${version}'`), 'd.yaml'))).toEqual([]);
  });

  it('does not warn when the feature is disabled', () => {
    const text = base.replace('enabled: true', 'enabled: false') + "    documentVersion: '2'\n";
    expect(configWarnings(parseConfigText(text, 'e.yaml'))).toEqual([]);
  });
});

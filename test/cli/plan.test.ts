import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import type { Plan } from '../../src/plan/plan.js';
import { dummyBundlesForAllHandlers, tempDir } from '../infra/helpers.js';
import { capture } from './helpers.js';

let dir: string;
/** Dummy Lambda bundles for every handler: plan needs them to exist, not to work. */
let lambdaDir: string;
beforeAll(() => {
  dir = tempDir('cli-plan');
  lambdaDir = dummyBundlesForAllHandlers();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(lambdaDir, { recursive: true, force: true });
});

describe('falcon-org plan', () => {
  it('prints per feature the StackSets, targets, regions and resources with totals as JSON', async () => {
    const output = capture();
    expect(
      await run(
        ['plan', '--config', 'examples/organization.yaml', '--json', '--lambda-dir', lambdaDir],
        output,
      ),
    ).toBe(0);
    const plan = JSON.parse(output.stdout.join('')) as Plan;
    expect(plan.rootStack).toMatchObject({ name: 'falcon-org', region: 'us-east-1' });
    expect(plan.rootStack.resources.map((r) => r.type)).toEqual(
      expect.arrayContaining([
        'AWS::S3::Bucket',
        'AWS::SecretsManager::Secret',
        'AWS::CloudFormation::StackSet',
      ]),
    );
    const ssm = plan.features.find((f) => f.name === 'ssmDistributor');
    expect(ssm?.status).toBe('deployed');
    expect(ssm?.stackSets.map((s) => [s.name, s.scope, s.regions, s.callAs])).toEqual([
      ['falcon-org-ssm-role', 'account', ['us-east-1'], 'DELEGATED_ADMIN'],
      [
        'falcon-org-ssm-association',
        'account-region',
        ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1'],
        'DELEGATED_ADMIN',
      ],
    ]);
    for (const s of ssm?.stackSets ?? []) {
      expect(s.targets).toEqual({
        organizationalUnitIds: ['ou-ab12-11111111', 'ou-ab12-22222222'],
        excludedAccounts: ['111111111111'],
      });
    }
    expect(ssm?.stackSets[0]?.resources.map((r) => r.type)).toEqual(['AWS::IAM::Role']);
    expect(ssm?.stackSets[1]?.resources.map((r) => r.type).sort()).toEqual([
      'AWS::SSM::Association',
      'AWS::SecretsManager::Secret',
    ]);
    expect(ssm?.resourcesPerAccount).toBe(1 + 2 * 4);
    expect(ssm?.notes).toEqual([
      "association falcon-org-falcon-sensor: CrowdStrike-FalconSensorDeploy version $DEFAULT (CrowdStrike's current default version, resolved at each run), action Install, targets every SSM-managed instance",
      "install options: LinuxInstallerParams none; WindowsInstallerParams none; LinuxPackageVersion package default (N-1); WindowsPackageVersion package default (N-1); ComplianceSeverity UNSPECIFIED (State Manager's default)",
      expect.stringMatching(
        /^automation role: may run only CrowdStrike-FalconSensorDeploy and AWS-ConfigureAWSPackage/,
      ),
    ]);
    const eks = plan.features.find((f) => f.name === 'eksProtection');
    expect(eks?.status).toBe('deployed');
    expect(eks?.stackSets.map((s) => [s.name, s.scope, s.regions])).toEqual([
      ['falcon-org-eks-roles', 'account', ['us-east-1']],
      ['falcon-org-eks-rules', 'account-region', ['us-east-1', 'us-west-2']],
    ]);
    expect(eks?.notes).toEqual([
      expect.stringMatching(
        /^deployer: CodeBuild project falcon-org-eks-deployer \(home region us-east-1\) runs the bundled deployer \(dist\/deployer\/index\.mjs/,
      ),
      expect.stringMatching(/^CloudTrail: needs an organization trail logging management events/),
    ]);
    expect(plan.rootStack.resources.map((r) => r.type)).toEqual(
      expect.arrayContaining(['AWS::CodeBuild::Project', 'AWS::Events::EventBus', 'AWS::DynamoDB::Table']),
    );
    // Totals add up over every feature (other features contribute their own StackSets).
    const all = plan.features.flatMap((f) => f.stackSets);
    expect(plan.totals.stackSets).toBe(all.length);
    expect(plan.totals.rootResources).toBe(plan.rootStack.resources.length);
    expect(plan.totals.resourcesPerAccount).toBe(all.reduce((n, s) => n + s.resourcesPerAccount, 0));
    const byRegion = plan.totals.resourcesPerAccountByRegion;
    expect(Object.values(byRegion).reduce((a, b) => a + b, 0)).toBe(plan.totals.resourcesPerAccount);
    expect(byRegion['us-east-2']).toBeGreaterThanOrEqual(2);
  });

  it('shows the install options, the pinned document version and the tag target group', async () => {
    const example = readFileSync('examples/organization.yaml', 'utf8');
    const file = join(dir, 'install-options.yaml');
    writeFileSync(
      file,
      example
        .replace('    documentVersion: $DEFAULT\n', "    documentVersion: '4'\n")
        .replace(
          '    targets:\n      type: all\n',
          [
            '    targets: { type: tags, tags: { falcon: [install] } }',
            `    linuxInstallerParams: '--tags="Production" --aph=proxy.example.com --app=8080'`,
            '    windowsPackageVersion: "7.05.17706"',
            '    complianceSeverity: HIGH',
            '',
          ].join('\n'),
        ),
    );
    const output = capture();
    expect(await run(['plan', '--config', file, '--lambda-dir', lambdaDir], output)).toBe(0);
    const text = output.stdout.join('\n');
    expect(text).toContain(
      'note: association falcon-org-falcon-sensor: CrowdStrike-FalconSensorDeploy version 4 (pinned), action Install, targets EC2 instances tagged falcon=install (resource group falcon-org-falcon-sensor-targets, created in each account and region)',
    );
    expect(text).toContain(
      'note: install options: LinuxInstallerParams "--tags=\\"Production\\" --aph=proxy.example.com --app=8080"; WindowsInstallerParams none; LinuxPackageVersion package default (N-1); WindowsPackageVersion 7.05.17706; ComplianceSeverity HIGH',
    );
  });

  it('prints a readable report by default, progress on stderr', async () => {
    const output = capture();
    expect(
      await run(['plan', '--config', 'examples/organization.yaml', '--lambda-dir', lambdaDir], output),
    ).toBe(0);
    const text = output.stdout.join('\n');
    expect(text).toContain('StackSet falcon-org-ssm-association (account-region, call as DELEGATED_ADMIN)');
    expect(text).toContain('excluded: 111111111111');
    expect(text).toContain('Feature eksProtection: deployed');
    expect(text).toContain('StackSet falcon-org-eks-rules (account-region, call as DELEGATED_ADMIN)');
    expect(text).toMatch(/note: deployer: CodeBuild project falcon-org-eks-deployer/);
    expect(text).toMatch(/note: CloudTrail: needs an organization trail/);
    expect(text).toMatch(
      /Totals: \d+ StackSets, \d+ resources in the root stack, \d+ resources in each targeted account/,
    );
    expect(text).toContain('ssmDistributor total: 9 resources per account');
    // The failure tolerance and what destroy leaves are explained, from the synthesized templates.
    expect(text).toContain('Rollout: 25% of accounts at once, failure tolerance 20%, SOFT_FAILURE_TOLERANCE');
    expect(text).toMatch(/Failure tolerance 20% per region, rounded down to whole accounts/);
    expect(text).toMatch(
      /Left behind by "falcon-org destroy":\n {2}- AWS::Logs::LogGroup \w+ in each account \(StackSet falcon-org-ecr-connections\): retained/,
    );
    // The example sets disconnectOnDelete: true, so the Delete removes the ownership record; the lease stays.
    expect(text).toContain('then its ownership record /falcon-org/ecr-connections/ownership');
    expect(text).toContain('SSM parameter /falcon-org/ecr-connections/ownership-lease in each account');
    expect(output.stderr.join('\n')).toContain('synthesizing');
  });

  it('exits 2 for a missing configuration file', async () => {
    const output = capture();
    expect(await run(['plan', '--config', join(dir, 'nope.yaml')], output)).toBe(2);
    expect(output.stderr.join('\n')).toContain('the file does not exist');
  });
});

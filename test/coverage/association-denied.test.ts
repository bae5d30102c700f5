import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildCoverageReport } from '../../src/coverage/build.js';
import type { CoverageReport } from '../../src/coverage/model.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import { DEV, PROD, buildFixture, type Fixture } from './fixture.js';

const ROLE = `arn:aws:sts::${DEV}:assumed-role/falcon-org-ssm-automation/Automation-abc`;
const DENIED = [
  'Step fails when it is Execution of a script. Traceback (most recent call last):',
  `Exception: Error calling ssm.DescribeInstanceInformation: An error occurred (AccessDeniedException) when calling the DescribeInstanceInformation operation: User: ${ROLE} is not authorized to perform: ssm:DescribeInstanceInformation on resource: arn:aws:ssm:us-east-1:${DEV}:* because no identity-based policy allows the ssm:DescribeInstanceInformation action. Please refer to Automation Service Troubleshooting Guide for more diagnosis details.`,
].join('\n');

function ssmCell(report: CoverageReport, account: string, region: string) {
  const found = report.cells.find(
    (c) => c.feature === 'ssmDistributor' && c.accountId === account && c.region === region,
  );
  if (found === undefined) throw new Error(`no cell ${account} ${region}`);
  return found;
}

describe('coverage names an association that failed with AccessDenied', () => {
  let fake: FakeFalconServer;
  let fx: Fixture;
  beforeAll(async () => {
    fake = await FakeFalconServer.start();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(async () => {
    fx = await buildFixture(fake);
  });
  afterEach(() => {
    fx.restore();
    for (const c of fake.connections()) fake.deleteConnection(c.id);
    fake.hosts.hosts.clear();
  });

  it('reads the failed execution of its own association and names the action and IAM reason', async () => {
    // Prepare: dev us-east-1's association failed; its rate-controlled parent says little, the child
    // execution for the instance carries the denial. Other failures must not be taken for it.
    const region = fx.org.accounts.get(DEV)?.regions['us-east-1'];
    if (region === undefined) throw new Error('fixture changed');
    region.association = { id: 'assoc-dev-east', status: 'Failed' };
    region.instances.push({ id: 'i-0b000000000000002', name: 'dev-web', ssm: 'Online' });
    region.automations = [
      {
        id: 'exec-old-other-assoc',
        document: 'CrowdStrike-FalconSensorDeploy',
        status: 'Failed',
        start: '2026-11-29T07:00:00Z',
        associationId: 'assoc-someone-else',
        failureMessage: `User: x is not authorized to perform: secretsmanager:GetSecretValue on resource: y because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      },
      {
        id: 'exec-run-shell',
        document: 'AWS-RunShellScript',
        status: 'Failed',
        start: '2026-11-29T06:30:00Z',
        failureMessage: 'User: x is not authorized to perform: ssm:SendCommand',
      },
      {
        id: 'exec-parent',
        document: 'CrowdStrike-FalconSensorDeploy',
        status: 'Failed',
        start: '2026-11-29T06:00:00Z',
        associationId: 'assoc-dev-east',
        failureMessage: 'Execution failed on 1 of 1 targets.',
      },
      {
        id: 'exec-child',
        document: 'CrowdStrike-FalconSensorDeploy',
        status: 'Failed',
        start: '2026-11-29T06:00:05Z',
        parentId: 'exec-parent',
        failureMessage: DENIED,
      },
    ];

    // Act
    const report = await buildCoverageReport(fx.deps, fx.options);

    // Assess
    const cell = ssmCell(report, DEV, 'us-east-1');
    const reason = cell.reasons.find((r) => r.code === 'association-access-denied');
    expect(reason?.text).toBe(
      `The association's last execution ended Failed on 2026-11-29T06:00:00.000Z: AccessDenied, the automation role may not call ssm:DescribeInstanceInformation on arn:aws:ssm:us-east-1:${DEV}:* (no identity-based policy allows the ssm:DescribeInstanceInformation action; execution exec-child). Grant the action to the role, or lift the permissions boundary or service control policy that denies it.`,
    );
    const instance = cell.items.find((i) => i.id === 'i-0b000000000000002');
    expect(instance?.reasons[0]?.code).toBe('association-access-denied');
    // The other accounts' associations succeeded: no execution history is read for them.
    expect(ssmCell(report, PROD, 'us-east-1').reasons.map((r) => r.code)).not.toContain(
      'association-access-denied',
    );
    const reads = fx.org.calls.filter((c) => c.command === 'DescribeAutomationExecutions');
    expect(reads).toEqual([{ account: DEV, region: 'us-east-1', command: 'DescribeAutomationExecutions' }]);
  });

  it('says the association failed, with Automation’s message, when the failure is no denial', async () => {
    const region = fx.org.accounts.get(DEV)?.regions['us-east-1'];
    if (region === undefined) throw new Error('fixture changed');
    region.association = { id: 'assoc-dev-east', status: 'Failed' };
    region.automations = [
      {
        id: 'exec-parent',
        document: 'CrowdStrike-FalconSensorDeploy',
        status: 'TimedOut',
        start: '2026-11-29T06:00:00Z',
        associationId: 'assoc-dev-east',
        failureMessage: 'Step timed out while step is verifying the command has completed.',
      },
    ];
    const report = await buildCoverageReport(fx.deps, fx.options);
    const reason = ssmCell(report, DEV, 'us-east-1').reasons.find((r) => r.code === 'association-failed');
    expect(reason?.text).toContain(
      ': Step timed out while step is verifying the command has completed. (execution exec-parent).',
    );
  });
});

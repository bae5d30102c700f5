import {
  CloudFormationClient,
  DescribeOrganizationsAccessCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeOrganizationCommand,
  ListDelegatedAdministratorsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { DescribeDocumentCommand, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createHomeClients } from '../../src/aws/clients.js';
import type { PreflightFinding } from '../../src/aws/preflight-finding.js';
import {
  hasErrors,
  type PreflightExpectations,
  runPreflight,
  STACKSETS_SERVICE_PRINCIPAL,
} from '../../src/aws/preflight.js';

const sts = mockClient(STSClient);
const ssm = mockClient(SSMClient);
const cfn = mockClient(CloudFormationClient);
const org = mockClient(OrganizationsClient);

const MGMT = '111111111111';
const MEMBER = '222222222222';
const expected: PreflightExpectations = {
  partition: 'aws',
  homeRegion: 'us-east-1',
  accountType: 'management',
  organizationId: 'o-abcdefghij',
};

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

function healthy(account = MGMT): void {
  sts.on(GetCallerIdentityCommand).resolves({ Account: account, Arn: `arn:aws:iam::${account}:role/Admin` });
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '30' } });
  org
    .on(DescribeOrganizationCommand)
    .resolves({ Organization: { Id: 'o-abcdefghij', MasterAccountId: MGMT } });
  cfn.on(DescribeOrganizationsAccessCommand).resolves({ Status: 'ENABLED' });
}

const clients = () => createHomeClients({ region: 'us-east-1' });
const errorsOf = (findings: readonly PreflightFinding[]) => findings.filter((f) => f.severity === 'error');

afterEach(() => {
  sts.reset();
  ssm.reset();
  cfn.reset();
  org.reset();
});

describe('runPreflight', () => {
  it('passes with management credentials, a bootstrap and trusted access', async () => {
    healthy();
    const result = await runPreflight(clients(), expected);
    expect(hasErrors(result)).toBe(false);
    expect(result.identity).toEqual({
      account: MGMT,
      arn: `arn:aws:iam::${MGMT}:role/Admin`,
      partition: 'aws',
    });
    expect(result.bootstrapVersion).toBe(30);
    expect(cfn.commandCalls(DescribeOrganizationsAccessCommand)[0]?.args[0].input).toEqual({
      CallAs: 'SELF',
    });
  });

  it('stops at missing credentials and says how to provide them', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const result = await runPreflight(clients(), expected);
    expect(result.identity).toBeUndefined();
    const [finding] = errorsOf(result.findings);
    expect(finding?.check).toBe('credentials');
    expect(finding?.message).toMatch(/Could not load credentials/);
    expect(finding?.message).toMatch(/AWS_PROFILE/);
    expect(finding?.message).toMatch(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    // Nothing else is asked once there is no identity.
    expect(ssm.calls()).toHaveLength(0);
    expect(org.calls()).toHaveLength(0);
  });

  it('names the exact bootstrap command when neither the version parameter nor CDKToolkit exists', async () => {
    healthy();
    ssm.on(GetParameterCommand).rejects(awsError('ParameterNotFound', 'ParameterNotFound'));
    cfn
      .on(DescribeStacksCommand)
      .rejects(awsError('ValidationError', 'Stack with id CDKToolkit does not exist'));
    const result = await runPreflight(clients(), expected);
    const [finding] = errorsOf(result.findings);
    expect(finding?.check).toBe('bootstrap');
    expect(finding?.message).toContain(`npx cdk bootstrap aws://${MGMT}/us-east-1`);
  });

  it('rejects a bootstrap older than version 6', async () => {
    healthy();
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '5' } });
    const [finding] = errorsOf((await runPreflight(clients(), expected)).findings);
    expect(finding?.check).toBe('bootstrap');
    expect(finding?.message).toMatch(/version 5, at least 6/);
  });

  it('only warns when the version parameter is unreadable but CDKToolkit is healthy', async () => {
    healthy();
    ssm.on(GetParameterCommand).rejects(awsError('AccessDeniedException', 'not allowed'));
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'CDKToolkit', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() }],
    });
    const result = await runPreflight(clients(), expected);
    expect(hasErrors(result)).toBe(false);
    expect(result.findings.find((f) => f.check === 'bootstrap')?.severity).toBe('warning');
  });

  it('reports credentials of the wrong partition', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: MGMT, Arn: `arn:aws-us-gov:iam::${MGMT}:user/x` });
    const [finding] = errorsOf((await runPreflight(clients(), expected)).findings);
    expect(finding?.check).toBe('partition');
    expect(finding?.message).toMatch(/"aws-us-gov".*aws\.partition is\s+"aws"/);
  });

  it('warns when the environment selects another region than the home region', async () => {
    healthy();
    const result = await runPreflight(clients(), { ...expected, ambientRegion: 'eu-west-1' });
    expect(result.findings.find((f) => f.check === 'region')).toMatchObject({ severity: 'warning' });
  });

  it('refuses a member account when accountType is management', async () => {
    healthy(MEMBER);
    const [finding] = errorsOf((await runPreflight(clients(), expected)).findings);
    expect(finding?.check).toBe('accountType');
    expect(finding?.message).toContain(MGMT);
    expect(finding?.message).toContain(MEMBER);
  });

  it('refuses the management account when accountType is delegatedAdmin', async () => {
    healthy(MGMT);
    const [finding] = errorsOf(
      (await runPreflight(clients(), { ...expected, accountType: 'delegatedAdmin' })).findings,
    );
    expect(finding?.check).toBe('accountType');
    expect(finding?.message).toMatch(/is the management account/);
  });

  it('finds the delegated administrator on a later page and asks for trusted access as DELEGATED_ADMIN', async () => {
    healthy(MEMBER);
    org
      .on(ListDelegatedAdministratorsCommand, { NextToken: undefined })
      .resolves({ DelegatedAdministrators: [{ Id: '333333333333' }], NextToken: 'p2' })
      .on(ListDelegatedAdministratorsCommand, { NextToken: 'p2' })
      .resolves({ DelegatedAdministrators: [{ Id: MEMBER }] });
    const result = await runPreflight(clients(), { ...expected, accountType: 'delegatedAdmin' });
    expect(hasErrors(result)).toBe(false);
    expect(org.commandCalls(ListDelegatedAdministratorsCommand)).toHaveLength(2);
    expect(org.commandCalls(ListDelegatedAdministratorsCommand)[0]?.args[0].input.ServicePrincipal).toBe(
      STACKSETS_SERVICE_PRINCIPAL,
    );
    expect(cfn.commandCalls(DescribeOrganizationsAccessCommand)[0]?.args[0].input).toEqual({
      CallAs: 'DELEGATED_ADMIN',
    });
  });

  it('gives the registration command when the caller is not a delegated administrator', async () => {
    healthy(MEMBER);
    org
      .on(ListDelegatedAdministratorsCommand)
      .resolves({ DelegatedAdministrators: [{ Id: '333333333333' }] });
    const [finding] = errorsOf(
      (await runPreflight(clients(), { ...expected, accountType: 'delegatedAdmin' })).findings,
    );
    expect(finding?.message).toContain(
      `register-delegated-administrator --service-principal ${STACKSETS_SERVICE_PRINCIPAL} --account-id ${MEMBER}`,
    );
  });

  it('warns (does not guess) when delegated administrators cannot be listed', async () => {
    healthy(MEMBER);
    org.on(ListDelegatedAdministratorsCommand).rejects(awsError('AccessDeniedException', 'denied'));
    const result = await runPreflight(clients(), { ...expected, accountType: 'delegatedAdmin' });
    expect(hasErrors(result)).toBe(false);
    expect(result.findings.find((f) => f.check === 'accountType')?.severity).toBe('warning');
  });

  it('reports another organization and accounts outside any organization', async () => {
    healthy();
    org
      .on(DescribeOrganizationCommand)
      .resolves({ Organization: { Id: 'o-zzzzzzzzzz', MasterAccountId: MGMT } });
    expect(errorsOf((await runPreflight(clients(), expected)).findings)[0]?.message).toMatch(
      /o-zzzzzzzzzz.*o-abcdefghij/,
    );
    org.on(DescribeOrganizationCommand).rejects(awsError('AWSOrganizationsNotInUseException', 'not in use'));
    expect(errorsOf((await runPreflight(clients(), expected)).findings)[0]?.message).toMatch(
      /not a member of an AWS Organization/,
    );
  });

  it('reports disabled StackSets trusted access with the command to enable it', async () => {
    healthy();
    cfn.on(DescribeOrganizationsAccessCommand).resolves({ Status: 'DISABLED' });
    const [finding] = errorsOf((await runPreflight(clients(), expected)).findings);
    expect(finding?.check).toBe('trustedAccess');
    expect(finding?.message).toContain('aws cloudformation activate-organizations-access');
  });
});

describe('pre-flight: the Distributor document in every SSM region', () => {
  const document = {
    name: 'CrowdStrike-FalconSensorDeploy',
    version: '3',
    regions: ['us-east-1', 'eu-west-1', 'il-central-1', 'ap-east-2'],
  };
  /** Answers DescribeDocument per region of the client that sends it (not per input). */
  function documentIn(answers: Record<string, 'active' | 'missing' | 'no-version' | 'denied'>): void {
    ssm.on(DescribeDocumentCommand).callsFake(async (input: { Name?: string }, getClient) => {
      const region = await (getClient() as SSMClient).config.region();
      const answer = answers[region];
      if (answer === 'missing') throw awsError('InvalidDocument', `Document ${input.Name} does not exist`);
      if (answer === 'no-version') throw awsError('InvalidDocumentVersion', 'no such version');
      if (answer === 'denied') throw awsError('AccessDeniedException', 'not allowed');
      return { Document: { Name: input.Name, Status: 'Active' } };
    });
  }

  it('names every region where the document is not published and stops the deploy', async () => {
    healthy();
    documentIn({
      'us-east-1': 'active',
      'eu-west-1': 'active',
      'il-central-1': 'missing',
      'ap-east-2': 'missing',
    });
    const result = await runPreflight(clients(), { ...expected, distributorDocument: document });
    const [finding] = errorsOf(result.findings);
    expect(finding).toMatchObject({ check: 'distributorDocument', severity: 'error' });
    expect(finding?.message).toContain(
      'not available in il-central-1 (not published), ap-east-2 (not published)',
    );
    expect(finding?.message).not.toContain('us-east-1');
    expect(finding?.message).toContain('remove these regions from features.ssmDistributor.regions');
    // Asked once per region, with the configured version.
    const calls = ssm.commandCalls(DescribeDocumentCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(4);
    expect(calls[0]).toEqual({ Name: 'CrowdStrike-FalconSensorDeploy', DocumentVersion: '3' });
  });

  it('says when only the configured version is missing, and how to fix it', async () => {
    healthy();
    documentIn({
      'us-east-1': 'active',
      'eu-west-1': 'no-version',
      'il-central-1': 'active',
      'ap-east-2': 'active',
    });
    const [finding] = errorsOf(
      (await runPreflight(clients(), { ...expected, distributorDocument: document })).findings,
    );
    expect(finding?.message).toContain('eu-west-1 (no version 3)');
    expect(finding?.message).toContain('features.ssmDistributor.documentVersion');
  });

  it('passes when the document is readable everywhere, and only warns for a region it cannot ask', async () => {
    healthy();
    documentIn({
      'us-east-1': 'active',
      'eu-west-1': 'active',
      'il-central-1': 'active',
      'ap-east-2': 'active',
    });
    const ok = await runPreflight(clients(), { ...expected, distributorDocument: document });
    expect(hasErrors(ok)).toBe(false);
    expect(ok.findings.find((f) => f.check === 'distributorDocument')?.severity).toBe('ok');

    documentIn({
      'us-east-1': 'active',
      'eu-west-1': 'denied',
      'il-central-1': 'active',
      'ap-east-2': 'active',
    });
    const denied = await runPreflight(clients(), { ...expected, distributorDocument: document });
    expect(hasErrors(denied)).toBe(false);
    expect(denied.findings.find((f) => f.check === 'distributorDocument')).toMatchObject({
      severity: 'warning',
      message: expect.stringContaining('in eu-west-1: AccessDeniedException') as unknown,
    });
  });

  it('does not ask when the SSM Distributor is not enabled', async () => {
    healthy();
    await runPreflight(clients(), expected);
    expect(ssm.commandCalls(DescribeDocumentCommand)).toHaveLength(0);
  });
});

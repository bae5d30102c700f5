/**
 * `status` finds what was deployed from the root stack's outputs (DescribeStacks on the stack named by
 * the resource prefix): the EKS runs table (output EksRunsTable) when `--runs-table` is not given, and
 * the report bucket of `--latest` (output CoverageReportBucket) when `--bucket` is not given. The real
 * CLI and SDK clients run against the AWS stand-in (test/fakes/aws) through AWS_ENDPOINT_URL, and the
 * Falcon stand-in; what the stand-in answers decides each case: found, stack missing, output missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { loadLatestReport } from '../../src/coverage/latest.js';
import type { CoverageReport } from '../../src/coverage/model.js';
import { capture } from '../cli/helpers.js';
import { plainOrg, type PlainAccount } from '../fakes/aws/plain-org.js';
import { AwsStandIn } from '../fakes/aws/server.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import { sampleReport } from './publish-fixture.js';

const HOME = 'us-east-1';
const STACK = 'falcon-org';
const TABLE = 'falcon-org-eks-runs';
const MEMBER = '210000000001';

const member: PlainAccount = {
  id: MEMBER,
  name: 'apps',
  parent: 'r-ab12',
  regions: { [HOME]: { instances: [], clusters: ['apps-eks'] } },
};
const stacks: Record<string, Record<string, string>> = {};
const model = plainOrg({
  accounts: [member],
  runsTableName: TABLE,
  stacks,
  runs: [
    {
      pk: `${MEMBER}#${HOME}#apps-eks`,
      accountId: MEMBER,
      region: HOME,
      clusterName: 'apps-eks',
      verdict: {
        kind: 'ineligible',
        code: 'config-map-auth',
        reason: 'The cluster only accepts aws-auth ConfigMap authentication.',
      },
    },
  ],
});

let aws: AwsStandIn;
let falcon: FakeFalconServer;
let dir: string;
const saved = { ...process.env };

beforeAll(async () => {
  aws = await AwsStandIn.start(model);
  falcon = await FakeFalconServer.start();
  dir = mkdtempSync(join(tmpdir(), 'falcon-org-deployed-'));
  writeFileSync(
    join(dir, 'org.yaml'),
    [
      `resourcePrefix: ${STACK}`,
      `falcon: { cloud: us-1, baseUrl: '${falcon.baseUrl}', credentials: { source: environment } }`,
      `aws: { partition: aws, homeRegion: ${HOME} }`,
      'organization: { id: o-a1b2c3d4e5, targets: [r-ab12] }',
      `features: { eksProtection: { enabled: true, regions: [${HOME}] } }`,
      'coverage: { enabled: true }',
    ].join('\n'),
  );
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: aws.url,
    AWS_ACCESS_KEY_ID: 'AKIDHOMEEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'test-only',
    AWS_REGION: HOME,
    FALCON_CLIENT_ID: falcon.credentials.clientId,
    FALCON_CLIENT_SECRET: falcon.credentials.clientSecret,
  });
});
afterAll(async () => {
  process.env = saved;
  await aws.close();
  await falcon.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  aws.reset();
  for (const key of Object.keys(stacks)) delete stacks[key];
});

/** The EKS cell of the member in the home region, from `status --json` with the given extra arguments. */
async function eksCell(...args: string[]) {
  const out = capture();
  const code = await run(['status', '--config', join(dir, 'org.yaml'), '--json', ...args], out);
  const doc = JSON.parse(out.stdout.join('')) as CoverageReport;
  const cell = doc.cells.find((c) => c.feature === 'eksProtection' && c.accountId === MEMBER);
  if (cell === undefined) throw new Error(`no EKS cell in ${out.stdout.join('')}`);
  return { code, cell };
}

describe('status finds the EKS runs table in the root stack', () => {
  it('found: reads the table the output EksRunsTable names', async () => {
    stacks[STACK] = { EksRunsTable: TABLE, CoverageReportBucket: 'acme-reports' };
    const { code, cell } = await eksCell();
    expect(code).toBe(3);
    expect(aws.count('cloudformation.DescribeStacks')).toBe(1);
    expect(aws.scannedTables).toEqual([TABLE]);
    // The cluster's verdict came from the table.
    expect(cell.items.map((i) => i.reasons[0]?.code)).toEqual(['ineligible']);
  });

  it('stack missing: the clusters are unknown, naming the stack and --runs-table (never "not deployed")', async () => {
    const { code, cell } = await eksCell();
    expect(code).toBe(3);
    expect(aws.scannedTables).toEqual([]);
    expect(cell.state).toBe('unknown');
    const text = cell.reasons[0]?.text ?? '';
    expect(text).toContain(`stack ${STACK} could not be read`);
    expect(text).toContain('does not exist');
    expect(text).toContain('pass --runs-table <name>');
  });

  it('output missing: the clusters are unknown, naming the missing output', async () => {
    stacks[STACK] = { CoverageReportBucket: 'acme-reports' };
    const { cell } = await eksCell();
    expect(aws.scannedTables).toEqual([]);
    expect(cell.state).toBe('unknown');
    expect(cell.reasons[0]?.text).toContain(`root stack ${STACK} has no output EksRunsTable`);
  });

  it('--runs-table overrides the stack: no DescribeStacks, the named table is read', async () => {
    stacks[STACK] = { EksRunsTable: 'not-this-one' };
    const { cell } = await eksCell('--runs-table', TABLE);
    expect(aws.count('cloudformation.DescribeStacks')).toBe(0);
    expect(aws.scannedTables).toEqual([TABLE]);
    expect(cell.items.map((i) => i.reasons[0]?.code)).toEqual(['ineligible']);
  });
});

describe('status --latest finds the report bucket in the root stack', () => {
  const report = JSON.stringify(sampleReport());
  /** SSM (the parameter the stack also writes) and S3, recording what they are asked. */
  function stores(parameter: string | undefined) {
    const asked: string[] = [];
    type Clients = Parameters<typeof loadLatestReport>[0];
    const ssm = {
      send: (command: GetParameterCommand) => {
        asked.push(`ssm:${command.input.Name ?? ''}`);
        if (parameter === undefined) {
          return Promise.reject(
            Object.assign(new Error('not found'), { name: 'ParameterNotFound', $metadata: {} }),
          );
        }
        return Promise.resolve({ Parameter: { Value: parameter } });
      },
    };
    const s3 = {
      send: (command: GetObjectCommand) => {
        asked.push(`s3://${command.input.Bucket ?? ''}/${command.input.Key ?? ''}`);
        return Promise.resolve({ Body: { transformToString: () => Promise.resolve(report) } });
      },
    };
    return { asked, ssm: ssm as unknown as Clients['ssm'], s3: s3 as unknown as Clients['s3'] };
  }
  const cloudFormation = () => new CloudFormationClient({ region: HOME });

  it('found: the bucket the output CoverageReportBucket names, SSM not asked', async () => {
    stacks[STACK] = { CoverageReportBucket: 'acme-reports' };
    const { asked, ssm, s3 } = stores('from-parameter');
    const latest = await loadLatestReport(
      { ssm, s3, cloudFormation: cloudFormation() },
      { resourcePrefix: STACK },
    );
    expect(latest.bucket).toBe('acme-reports');
    expect(asked).toEqual(['s3://acme-reports/latest.json']);
  });

  it('stack missing or output missing: the SSM parameter the stack writes', async () => {
    for (const outputs of [undefined, { EksRunsTable: TABLE }]) {
      for (const key of Object.keys(stacks)) delete stacks[key];
      if (outputs !== undefined) stacks[STACK] = outputs;
      const { asked, ssm, s3 } = stores('from-parameter');
      const latest = await loadLatestReport(
        { ssm, s3, cloudFormation: cloudFormation() },
        { resourcePrefix: STACK },
      );
      expect(latest.bucket).toBe('from-parameter');
      expect(asked).toEqual([`ssm:/${STACK}/coverage/report-bucket`, 's3://from-parameter/latest.json']);
    }
    expect(aws.count('cloudformation.DescribeStacks')).toBe(2);
  });

  it('neither: says what to do', async () => {
    const { ssm, s3 } = stores(undefined);
    await expect(
      loadLatestReport({ ssm, s3, cloudFormation: cloudFormation() }, { resourcePrefix: STACK }),
    ).rejects.toThrow('no coverage report bucket is recorded');
  });

  it('--bucket overrides the stack: no DescribeStacks', async () => {
    stacks[STACK] = { CoverageReportBucket: 'acme-reports' };
    const { asked, ssm, s3 } = stores('from-parameter');
    const latest = await loadLatestReport(
      { ssm, s3, cloudFormation: cloudFormation() },
      { resourcePrefix: STACK, bucket: 'given' },
    );
    expect(latest.bucket).toBe('given');
    expect(asked).toEqual(['s3://given/latest.json']);
    expect(aws.count('cloudformation.DescribeStacks')).toBe(0);
  });
});

import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/cli/exit.js';
import { runStatus, type StatusOptions, type StatusWiring } from '../../src/cli/status.js';
import type { CoverageReport } from '../../src/coverage/model.js';
import { createCoverageHandler } from '../../src/handlers/coverage.js';
import { capture } from '../cli/helpers.js';
import {
  CoverageHarness,
  functionEnv,
  lambdaContext,
  SCHEDULED_EVENT,
} from '../handlers/coverage-harness.js';
import { testConfig } from '../infra/helpers.js';
import { sampleReport } from './publish-fixture.js';

const ssm = mockClient(SSMClient);
let harness: CoverageHarness | undefined;
afterEach(() => {
  ssm.reset();
  harness?.reset();
  harness = undefined;
});

const config = testConfig({ resourcePrefix: 'acme', coverage: { enabled: true } });

/** A wiring whose live path must not be taken: --latest never reads the organization. */
function storedOnly(report: CoverageReport | undefined, loads: (string | undefined)[] = []): StatusWiring {
  const never = (): never => {
    throw new Error('--latest must not read the organization');
  };
  return {
    loadConfig: () => Promise.resolve(config),
    settingsFor: never,
    createDeps: never,
    openFile: never,
    color: false,
    ...(report
      ? {
          loadLatest: (_config, bucket) => {
            loads.push(bucket);
            return Promise.resolve({ bucket: bucket ?? 'found-bucket', key: 'latest.json', report });
          },
        }
      : {}),
  };
}

async function status(opts: Partial<StatusOptions>, wiring: StatusWiring) {
  const out = capture();
  try {
    const report = await runStatus({ config: 'unused', latest: true, ...opts }, out, wiring);
    return { code: 0, stdout: out.stdout.join(''), stderr: out.stderr.join(''), report };
  } catch (error) {
    const { code, message } = describeFailure(error, false);
    return {
      code,
      stdout: out.stdout.join(''),
      stderr: `${out.stderr.join('')}${message}`,
      report: undefined,
    };
  }
}

describe('falcon-org status --latest', () => {
  it('prints the stored report without reading the organization, with the exit code of its content', async () => {
    const stored = sampleReport();
    const loads: (string | undefined)[] = [];
    const { code, stdout, stderr } = await status({ json: true }, storedOnly(stored, loads));
    expect(code).toBe(3);
    // latest.json holds the cells without their items (they are beside it, read with --account).
    expect(JSON.parse(stdout)).toEqual({
      ...stored,
      cells: stored.cells.map(({ items: _items, ...c }) => c),
    });
    expect(stderr).toContain('8 of 12 cell(s) are not protected');
    expect(loads).toEqual([undefined]);
    const named = await status({ bucket: 'my-bucket' }, storedOnly(stored, loads));
    expect(loads).toEqual([undefined, 'my-bucket']);
    expect(named.stderr).toContain(
      'stored report of 2026-11-29T06:00:05.123Z from s3://my-bucket/latest.json',
    );
  });

  it('exits 0 when everything in the stored report is protected', async () => {
    const base = sampleReport();
    const cells = base.cells.map((c) => ({ ...c, state: 'protected' as const }));
    const { code } = await status({}, storedOnly({ ...base, cells, allProtected: true }));
    expect(code).toBe(0);
  });

  it('narrows to --feature and --account, recomputing totals and the exit code', async () => {
    const { code, stdout } = await status(
      { feature: ['ecrConnections'], account: ['111111111111'], json: true },
      storedOnly(sampleReport()),
    );
    expect(code).toBe(3);
    const again = await status(
      { feature: ['ecrConnections'], account: ['222222222222'], json: true },
      storedOnly({
        ...sampleReport(),
        cells: sampleReport().cells.map((c) =>
          c.accountId === '222222222222' ? { ...c, state: 'protected' as const } : c,
        ),
      }),
    );
    expect(again.code).toBe(0);
    expect(again.report?.cells.map((c) => [c.feature, c.accountId, c.region])).toEqual([
      ['ecrConnections', '222222222222', 'eu-west-1'],
      ['ecrConnections', '222222222222', 'us-east-1'],
    ]);
    expect(again.report?.totals.ecrConnections).toEqual({
      protected: 2,
      partial: 0,
      unprotected: 0,
      'not-applicable': 0,
      unknown: 0,
    });
    expect(again.report?.totals.ssmDistributor?.unknown).toBe(0);
    expect(again.report?.accounts.map((a) => a.id)).toEqual(['222222222222']);
    expect(again.report?.scope.features).toEqual(['ecrConnections']);
    const first = JSON.parse(stdout) as CoverageReport;
    expect(first.scope.accountFilter).toEqual(['111111111111']);
    expect(first.cells.map((c) => c.state)).toEqual(['protected', 'unprotected']);
    expect(again.report?.scope.accountFilter).toEqual(['222222222222']);
  });

  it('is bad input (exit 2) to ask for what the stored report does not hold', async () => {
    const feature = await status({ feature: ['eksProtection'] }, storedOnly(sampleReport()));
    expect(feature.code).toBe(2);
    expect(feature.stderr).toContain(
      '--feature eksProtection: not in the stored report (it has ssmDistributor, ecrConnections)',
    );
    const account = await status({ account: ['555555555555'] }, storedOnly(sampleReport()));
    expect(account.code).toBe(2);
    expect(account.stderr).toContain('--account 555555555555: not in the stored report');
  });

  it('end to end: the scheduled function stores a report, status --latest finds the bucket and prints it', async () => {
    // Prepare: the function runs once against its bucket (stateful S3 stand-in)
    harness = new CoverageHarness('acme-coverage-bucket');
    const h = harness;
    const run = createCoverageHandler({
      env: functionEnv({ FALCON_ORG_COVERAGE_BUCKET: 'acme-coverage-bucket' }),
      services: () => Promise.resolve(h.services()),
    });
    await run(SCHEDULED_EVENT, lambdaContext());
    ssm.on(GetParameterCommand, { Name: '/acme/coverage/report-bucket' }).resolves({
      Parameter: { Value: 'acme-coverage-bucket' },
    });
    // Act: the default loader (SSM parameter, then S3), nothing injected
    const { code, stdout } = await status({ json: true }, storedOnly(undefined));
    // Assess
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(h.object('latest.json') ?? ''));
  });

  it('a stored report with an unknown state or feature is refused (exit 1) naming the key and the object, not a TypeError', async () => {
    harness = new CoverageHarness('acme-coverage-bucket');
    const stored = JSON.parse(JSON.stringify(sampleReport())) as {
      cells: { state: string; feature: string }[];
    };
    const [first, second] = stored.cells;
    if (first === undefined || second === undefined) throw new Error('fixture');
    first.state = 'mostly-fine';
    harness.objects.set('acme-coverage-bucket/latest.json', { body: JSON.stringify(stored) });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'acme-coverage-bucket' } });

    for (const html of [false, true]) {
      const { code, stderr } = await status(html ? { html: '/tmp/never.html' } : {}, storedOnly(undefined));
      expect(code).toBe(1);
      expect(stderr).toContain('s3://acme-coverage-bucket/latest.json is not a complete coverage report');
      expect(stderr).toContain('cells[0].state');
      expect(stderr).not.toContain('TypeError');
    }

    first.state = 'protected';
    second.feature = 'lambdaLayers';
    harness.objects.set('acme-coverage-bucket/latest.json', { body: JSON.stringify(stored) });
    const { code, stderr } = await status({}, storedOnly(undefined));
    expect(code).toBe(1);
    expect(stderr).toContain('cells[1].feature');
  });

  it('says what to do when no report has been stored yet (exit 1)', async () => {
    harness = new CoverageHarness('acme-coverage-bucket');
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'acme-coverage-bucket' } });
    const { code, stderr } = await status({}, storedOnly(undefined));
    expect(code).toBe(1);
    expect(stderr).toContain('no coverage report has been stored yet');
    expect(stderr).toContain('aws lambda invoke --function-name acme-coverage');
  });
});

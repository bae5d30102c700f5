import { afterEach, describe, expect, it } from 'vitest';
import { readLatestReport } from '../../src/coverage/latest.js';
import { readCoverage, type CoverageRun } from '../../src/coverage/build.js';
import type { CoverageOptions, CoverageSummary } from '../../src/coverage/model.js';
import { CoveragePublishError, LatestReportError } from '../../src/coverage/publish-errors.js';
import { createCoverageHandler } from '../../src/handlers/coverage.js';
import {
  CoverageHarness,
  functionEnv,
  lambdaContext,
  SCHEDULED_EVENT,
  SETTINGS,
  smallOrganization,
} from './coverage-harness.js';

let harness: CoverageHarness;
afterEach(() => harness.reset());

function handler(options: Partial<Parameters<typeof createCoverageHandler>[0]> = {}) {
  harness ??= new CoverageHarness();
  return createCoverageHandler({
    env: functionEnv(),
    services: () => Promise.resolve(harness.services()),
    ...options,
  });
}

function fresh(): CoverageHarness {
  harness?.reset();
  harness = new CoverageHarness();
  return harness;
}

describe('coverage function', () => {
  it('on schedule: reads the organization with the real core, stores latest.json, latest.html and a dated copy, publishes metrics', async () => {
    // Prepare
    const h = fresh();
    const deps = smallOrganization();
    const run = handler({ services: () => Promise.resolve(h.services(deps)) });
    // Act
    const summary = await run(SCHEDULED_EVENT, lambdaContext());
    // Assess: what was read
    expect(deps.readerCalls.sort()).toEqual(['111111111111', '222222222222']);
    // Assess: what was stored
    expect(h.keys()).toEqual([
      'latest.html',
      'latest.json',
      'reports/2026/11/29/2026-11-29T06-00-00-000Z.json',
      'reports/2026/11/29/2026-11-29T06-00-00-000Z/accounts/111111111111.json',
      'reports/2026/11/29/2026-11-29T06-00-00-000Z/accounts/222222222222.json',
    ]);
    const report = JSON.parse(h.object('latest.json') ?? '') as CoverageSummary;
    expect(h.object('reports/2026/11/29/2026-11-29T06-00-00-000Z.json')).toBe(h.object('latest.json'));
    expect(report.scope).toMatchObject({
      partition: 'aws',
      homeAccountId: '999999999999',
      homeRegion: 'eu-west-1',
      targets: ['ou-ab12-11111111'],
      excludeAccounts: ['444444444444'],
    });
    expect(report.accounts.map((a) => [a.id, a.readable])).toEqual([
      ['111111111111', true],
      ['222222222222', false],
    ]);
    expect(h.object('latest.html')).toMatch(/^<!doctype html>/);
    expect(report.details).toEqual({
      layout: 'per-account',
      prefix: 'reports/2026/11/29/2026-11-29T06-00-00-000Z/accounts/',
    });
    const ssmCell = report.cells.find(
      (c) => c.feature === 'ssmDistributor' && c.accountId === '111111111111' && c.region === 'eu-west-1',
    );
    expect(ssmCell?.counts).toMatchObject({ protected: 1, unprotected: 1 });
    const unreadable = report.cells.filter((c) => c.accountId === '222222222222');
    expect(unreadable.length).toBeGreaterThan(0);
    expect(unreadable.every((c) => c.state === 'unknown')).toBe(true);
    // Assess: the metrics say the same as the report
    const metric = (feature: string, name: string) =>
      h.metrics.find((m) => m.datum.MetricName === name && m.datum.Dimensions?.[0]?.Value === feature)?.datum
        .Value;
    expect(h.metrics.every((m) => m.namespace === 'FalconOrg/Coverage')).toBe(true);
    expect(new Set(h.metrics.map((m) => m.datum.Dimensions?.[0]?.Value))).toEqual(
      new Set(['ssmDistributor', 'ecrConnections']),
    );
    expect(metric('ssmDistributor', 'UnknownCells')).toBe(
      report.cells.filter((c) => c.feature === 'ssmDistributor' && c.state === 'unknown').length,
    );
    expect(metric('ssmDistributor', 'ProtectedResources')).toBe(1);
    expect(metric('ssmDistributor', 'UnprotectedResources')).toBe(1);
    // Assess: the answer
    expect(summary).toEqual({
      trigger: 'schedule',
      generatedAt: '2026-11-29T06:00:00.000Z',
      allProtected: false,
      accounts: 2,
      unreadableAccounts: 1,
      cells: report.cells.length,
      keys: [
        'reports/2026/11/29/2026-11-29T06-00-00-000Z/accounts/111111111111.json',
        'reports/2026/11/29/2026-11-29T06-00-00-000Z/accounts/222222222222.json',
        'reports/2026/11/29/2026-11-29T06-00-00-000Z.json',
        'latest.html',
        'latest.json',
      ],
      metrics: 18,
    });
    expect(h.closed).toBe(1);
  });

  it('passes the settings to the core unchanged, with the home account from its own ARN', async () => {
    fresh();
    let seen: CoverageOptions | undefined;
    const run = handler({
      read: (deps, options, sink) => {
        seen = options;
        return readCoverage(deps, options, sink);
      },
    });
    await run({}, lambdaContext());
    expect(seen).toMatchObject({
      scope: {
        partition: 'aws',
        homeAccountId: '999999999999',
        homeRegion: 'eu-west-1',
        targets: SETTINGS.targets,
        excludeAccounts: SETTINGS.excludeAccounts,
      },
      features: SETTINGS.features,
      associationName: SETTINGS.associationName,
      deploymentId: SETTINGS.deploymentId,
      concurrency: 12,
      hostStaleAfterHours: 36,
    });
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
  });

  it('runs on demand with an empty payload and refuses anything else before reading', async () => {
    fresh();
    await expect(handler()({}, lambdaContext())).resolves.toMatchObject({ trigger: 'on-demand' });
    const h = fresh();
    await expect(handler()({ accounts: ['111111111111'] }, lambdaContext())).rejects.toThrow(
      'unsupported event: expected an EventBridge scheduled event or an empty payload ({}) for an on-demand run',
    );
    expect(h.keys()).toEqual([]);
  });

  it('names every bad environment variable at once', async () => {
    fresh();
    const run = handler({
      env: functionEnv({
        FALCON_ORG_COVERAGE_BUCKET: undefined,
        FALCON_ORG_COVERAGE_SETTINGS: '{"partition":1}',
      }),
    });
    const error = await run(SCHEDULED_EVENT, lambdaContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoveragePublishError);
    const message = (error as Error).message;
    expect(message).toContain('FALCON_ORG_COVERAGE_BUCKET is not set');
    expect(message).toContain('FALCON_ORG_COVERAGE_SETTINGS.partition must be a non-empty string');
    expect(message).toContain('FALCON_ORG_COVERAGE_SETTINGS.readRoleName must be a non-empty string');
    expect(harness.keys()).toEqual([]);
  });

  it('publishes nothing when the organization cannot be read, fails the invocation and still closes the Falcon client', async () => {
    const h = fresh();
    const deps = smallOrganization();
    const broken = {
      ...deps,
      directory: {
        listAccounts: () =>
          Promise.reject(new Error('AccessDeniedException: organizations:ListAccountsForParent')),
        listChildOus: () => Promise.resolve([]),
      },
    };
    const run = handler({ services: () => Promise.resolve(h.services(broken)) });
    await expect(run(SCHEDULED_EVENT, lambdaContext())).rejects.toThrow(/could not read the organization/);
    expect(h.keys()).toEqual([]);
    expect(h.metrics).toEqual([]);
    expect(h.closed).toBe(1);
  });

  it('publishes nothing when the report is not finished before the deadline, and tells the core to stop', async () => {
    const h = fresh();
    let aborted = false;
    const run = handler({
      read: (_deps, options) =>
        new Promise<CoverageRun>((_resolve, reject) => {
          options.signal?.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    });
    // 200 ms left: the work budget is 150 ms
    await expect(run(SCHEDULED_EVENT, lambdaContext(200))).rejects.toThrow(
      /the report was not finished within 0 s; nothing was published/,
    );
    expect(aborted).toBe(true);
    expect(h.keys()).toEqual([]);
    expect(h.metrics).toEqual([]);
  });
});

describe('coverage function, then status --latest', () => {
  it('nothing stored yet, a run, a run that crashes halfway, a run again: --latest always shows the last complete report', async () => {
    const h = fresh();
    const s3 = h.services().publish.s3;
    // Before any run: a clear message with the way to start one
    await expect(
      readLatestReport(s3, 'reports-bucket', { functionName: 'falcon-org-coverage' }),
    ).rejects.toThrow(
      new LatestReportError(
        'no coverage report has been stored yet (s3://reports-bucket/latest.json does not exist): wait for the schedule or run one now with "aws lambda invoke --function-name falcon-org-coverage --invocation-type Event /dev/null"',
      ),
    );

    // First run at 06:00
    let now = new Date('2026-11-29T06:00:00.000Z');
    const services = () => Promise.resolve(h.services({ ...smallOrganization(), now: () => now }));
    await handler({ services })(SCHEDULED_EVENT, lambdaContext());
    const first = await readLatestReport(s3, 'reports-bucket');
    expect(first.generatedAt).toBe('2026-11-29T06:00:00.000Z');

    // Second run at 12:00 stores its dated copy, then cannot write latest.html: the invocation fails
    // and latest.json still holds the 06:00 report, next to which the 12:00 copy now also exists.
    now = new Date('2026-11-29T12:00:00.000Z');
    h.failingKeys.add('latest.html');
    await expect(handler({ services })(SCHEDULED_EVENT, lambdaContext())).rejects.toThrow(
      /s3:\/\/reports-bucket\/latest.html: AccessDenied/,
    );
    expect((await readLatestReport(s3, 'reports-bucket')).generatedAt).toBe('2026-11-29T06:00:00.000Z');
    expect(h.keys()).toContain('reports/2026/11/29/2026-11-29T12-00-00-000Z.json');

    // Third run at 18:00 succeeds: --latest shows it, every dated copy is kept
    now = new Date('2026-11-29T18:00:00.000Z');
    await handler({ services })(SCHEDULED_EVENT, lambdaContext());
    const latest = await readLatestReport(s3, 'reports-bucket');
    expect(latest.generatedAt).toBe('2026-11-29T18:00:00.000Z');
    expect(latest).toEqual(JSON.parse(h.object('reports/2026/11/29/2026-11-29T18-00-00-000Z.json') ?? ''));
    expect(h.keys().filter((k) => k.startsWith('reports/') && k.endsWith('Z.json'))).toHaveLength(3);
  });
});

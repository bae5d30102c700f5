import {
  COVERAGE_SCHEMA_VERSION,
  type CellCounts,
  type CoverageCell,
  type CoverageFeature,
  type CoverageReport,
  type CoverageState,
  type CoverageTotals,
} from '../../src/coverage/model.js';

const STATES: readonly CoverageState[] = ['protected', 'partial', 'unprotected', 'not-applicable', 'unknown'];

function counts(protectedCount: number, unprotected: number, unknown = 0, notApplicable = 0): CellCounts {
  return {
    total: protectedCount + unprotected + unknown + notApplicable,
    protected: protectedCount,
    partial: 0,
    unprotected,
    unknown,
    notApplicable,
  };
}

function cell(
  feature: CoverageFeature,
  accountId: string,
  region: string,
  state: CoverageState,
  c: CellCounts,
): CoverageCell {
  return { feature, accountId, region, state, counts: c, reasons: [], items: [] };
}

/**
 * A small report with every cell state: two readable accounts and one unreadable one, two regions,
 * SSM Distributor and ECR in scope (EKS not).
 */
export function sampleReport(generatedAt = '2026-11-29T06:00:05.123Z'): CoverageReport {
  const cells: CoverageCell[] = [
    cell('ssmDistributor', '111111111111', 'eu-west-1', 'protected', counts(4, 0)),
    cell('ssmDistributor', '111111111111', 'us-east-1', 'partial', counts(3, 2)),
    cell('ssmDistributor', '222222222222', 'eu-west-1', 'unprotected', counts(0, 5)),
    cell('ssmDistributor', '222222222222', 'us-east-1', 'not-applicable', counts(0, 0, 0, 0)),
    cell('ssmDistributor', '333333333333', 'eu-west-1', 'unknown', counts(0, 0)),
    cell('ssmDistributor', '333333333333', 'us-east-1', 'unknown', counts(0, 0)),
    cell('ecrConnections', '111111111111', 'eu-west-1', 'protected', counts(1, 0)),
    cell('ecrConnections', '111111111111', 'us-east-1', 'unprotected', counts(0, 1)),
    cell('ecrConnections', '222222222222', 'eu-west-1', 'unknown', counts(0, 0, 1)),
    cell('ecrConnections', '222222222222', 'us-east-1', 'protected', counts(1, 0)),
    cell('ecrConnections', '333333333333', 'eu-west-1', 'unknown', counts(0, 0)),
    cell('ecrConnections', '333333333333', 'us-east-1', 'unknown', counts(0, 0)),
  ];
  const features: CoverageFeature[] = ['ssmDistributor', 'ecrConnections'];
  const totals = Object.fromEntries(
    (['ssmDistributor', 'ecrConnections', 'eksProtection'] as const).map((f) => [
      f,
      Object.fromEntries(
        STATES.map((s) => [s, cells.filter((c) => c.feature === f && c.state === s).length]),
      ),
    ]),
  ) as unknown as CoverageTotals;
  return {
    schemaVersion: COVERAGE_SCHEMA_VERSION,
    generatedAt,
    scope: {
      partition: 'aws',
      homeAccountId: '999999999999',
      homeRegion: 'eu-west-1',
      targets: ['ou-ab12-11111111'],
      excludeAccounts: [],
      features,
    },
    accounts: [
      { id: '111111111111', readable: true },
      { id: '222222222222', readable: true },
      {
        id: '333333333333',
        readable: false,
        reason: { code: 'account-unreadable', text: 'AccessDenied assuming the coverage role' },
      },
    ],
    regions: ['eu-west-1', 'us-east-1'],
    cells,
    totals,
    allProtected: false,
  };
}

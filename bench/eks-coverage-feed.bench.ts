/**
 * What an EKS sweep holds to read the coverage report's EKS cells (the closed loop,
 * src/coverage/eks-feed.ts): `latest.json` of ACCOUNTS accounts × 17 regions × 3 features, written by
 * the report writer itself (src/coverage/report-json.ts), read in a child process each way, with its
 * peak RSS from /usr/bin/time:
 *   - lines: readLatestCells, the document streamed line by line, only EKS cells kept (this code);
 *   - whole: the document read into one string and parsed (the code before it, the baseline).
 * The discover function has 512 MB.
 *
 *   npx tsx bench/eks-coverage-feed.bench.ts [--accounts 10000]
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLatestCells } from '../src/coverage/latest-cells.js';
import { parseStoredReport } from '../src/coverage/latest.js';
import {
  COVERAGE_FEATURES,
  COVERAGE_SCHEMA_VERSION,
  COVERAGE_STATES,
  type CellSummary,
  type CoverageSummary,
} from '../src/coverage/model.js';
import { writeReportJson } from '../src/coverage/report-json.js';
import { BENCH_REGIONS } from './regions.js';
import { mib } from './memory.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const ACCOUNTS = Number(arg('accounts') ?? 10000);
if (!Number.isInteger(ACCOUNTS) || ACCOUNTS < 1) throw new Error('--accounts must be a positive integer');

// ---- child: one way of reading, then exit -----------------------------------------------------------
const mode = arg('mode');
const file = arg('file');
if (mode !== undefined && file !== undefined) {
  const started = performance.now();
  let eks: number;
  if (mode === 'lines') {
    const s3 = { send: () => Promise.resolve({ Body: createReadStream(file) }) };
    eks = (await readLatestCells(s3 as never, 'bench', ['eksProtection'])).cells.length;
  } else {
    const report = parseStoredReport(readFileSync(file, 'utf8'), file);
    eks = report.cells.filter((c) => c.feature === 'eksProtection').length;
  }
  console.log(JSON.stringify({ eks, seconds: Math.round(performance.now() - started) / 1000 }));
  process.exit(0);
}

// ---- parent: write the document, read it both ways --------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'falcon-org-eks-feed-'));
const path = join(dir, 'latest.json');
const accountId = (n: number) => String(100000000000 + n);
const counts = (p: number, u: number) => ({
  total: p + u,
  protected: p,
  partial: 0,
  unprotected: u,
  notApplicable: 0,
  unknown: 0,
});
const cells: CellSummary[] = [];
for (let n = 0; n < ACCOUNTS; n += 1) {
  BENCH_REGIONS.forEach((region, r) => {
    const id = accountId(n);
    cells.push({
      accountId: id,
      region,
      feature: 'ssmDistributor',
      state: 'partial',
      counts: counts(3, 1),
      reasons: [
        {
          code: 'sensor-stale',
          text: '1 instance: Falcon knows the sensor but it is not reporting: i-0123456789abcdef0 (web-1).',
        },
      ],
    });
    cells.push(
      r % 3 === 0
        ? {
            accountId: id,
            region,
            feature: 'eksProtection',
            state: n % 100 === 0 ? 'partial' : 'protected',
            counts: counts(1, 0),
            reasons: [],
          }
        : {
            accountId: id,
            region,
            feature: 'eksProtection',
            state: 'not-applicable',
            counts: { ...counts(0, 0), notApplicable: 0 },
            reasons: [{ code: 'no-clusters', text: 'No EKS clusters.' }],
          },
    );
    cells.push({
      accountId: id,
      region,
      feature: 'ecrConnections',
      state: 'protected',
      counts: counts(1, 0),
      reasons: [],
    });
  });
}
const summary: CoverageSummary = {
  schemaVersion: COVERAGE_SCHEMA_VERSION,
  generatedAt: new Date().toISOString(),
  scope: {
    partition: 'aws',
    homeRegion: 'us-east-1',
    targets: ['r-ab12'],
    excludeAccounts: [],
    features: ['ssmDistributor', 'eksProtection', 'ecrConnections'],
  },
  accounts: Array.from({ length: ACCOUNTS }, (_, n) => ({
    id: accountId(n),
    name: `account-${n}`,
    readable: true,
  })),
  regions: [...BENCH_REGIONS],
  cells,
  totals: Object.fromEntries(
    COVERAGE_FEATURES.map((f) => [
      f,
      Object.fromEntries(
        COVERAGE_STATES.map((st) => [st, cells.filter((c) => c.feature === f && c.state === st).length]),
      ),
    ]),
  ),
  allProtected: false,
  details: { layout: 'per-account', prefix: 'reports/x/accounts/' },
} as unknown as CoverageSummary;
const handle = await open(path, 'w');
await writeReportJson(summary, undefined, async (chunk) => {
  await handle.write(chunk);
});
await handle.close();
cells.length = 0;

/** Reads the document one way in a child process: what it found, its seconds and its peak RSS. */
function readMeasured(how: 'lines' | 'whole') {
  const times = join(dir, `${how}.time`);
  const args = [
    '-f',
    '%M',
    '-o',
    times,
    process.execPath,
    '--import',
    'tsx',
    process.argv[1] ?? '',
    '--mode',
    how,
    '--file',
    path,
  ];
  try {
    const out = execFileSync('/usr/bin/time', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const found = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { eks: number; seconds: number };
    return {
      ...found,
      peakRssMiB: mib(Number(readFileSync(times, 'utf8').trim().split('\n').at(-1)) * 1024),
    };
  } catch (error) {
    return {
      failed: String((error as { stderr?: string }).stderr ?? error)
        .trim()
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('    at '))
        .slice(0, 3)
        .join(' | '),
    };
  }
}
const lines = readMeasured('lines');
const whole = readMeasured('whole');
const result = {
  command: `npx tsx bench/eks-coverage-feed.bench.ts --accounts ${ACCOUNTS}`,
  accounts: ACCOUNTS,
  latestJsonMiB: mib(statSync(path).size),
  lines,
  whole,
  peakRssRatioWholeOverLines:
    'peakRssMiB' in lines && 'peakRssMiB' in whole && lines.peakRssMiB > 0
      ? Math.round((whole.peakRssMiB / lines.peakRssMiB) * 10) / 10
      : undefined,
};
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(result));

/**
 * Coverage benchmark: the whole run of the scheduled function (readCoverage with every account
 * spooled to a ReportStore, then publishReport: each account's details, the summary and its dated
 * copy, the heatmap and the metric data, sent to stand-ins that drop them) over a simulated
 * organization of ACCOUNTS × REGIONS with
 * LATENCY ms per call (every port call: Organizations, AssumeRole, each EC2 / SSM / EKS read, the
 * Falcon hosts query, the ownership record, the runs table). Goal: under 120 s and 512 MiB.
 *
 *   npx tsx bench/coverage.bench.ts [--accounts 1000] [--regions 17] [--latency 50] [--concurrency 16]
 *     [--region-concurrency 8] [--instances 5]
 *
 * Peak RSS is measured with no heap cap (the 512 MiB goal holds for V8 left alone).
 *
 * Each account: every region has INSTANCES running instances (the last one not SSM-managed, one
 * managed but not compliant, the rest compliant and seen by Falcon), one EKS cluster in every third
 * region (with a runs-table item), and the ECR ownership record; 1 account in 100 refuses the
 * coverage role. Results are printed and written to bench/results/coverage-<timestamp>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { getHeapStatistics } from 'node:v8';
import type { DirectoryAccount, OrganizationDirectory } from '../src/aws/organization-scope.js';
import { readCoverage } from '../src/coverage/build.js';
import { writeHtmlReport } from '../src/coverage/html.js';
import { ReportStore } from '../src/coverage/report-store.js';
import type {
  AccountReader,
  CoverageDeps,
  FalconHost,
  RegistryConnectionInfo,
} from '../src/coverage/model.js';
import { publishReport } from '../src/coverage/publish.js';
import type { OwnershipRecord } from '../src/ecr/ownership.js';
import type { RunsTableItem } from '../src/eks/runs-table.js';
import { BENCH_REGIONS } from './regions.js';
import { mib, sampleMemory } from './memory.js';

if (process.argv.includes('--help')) {
  console.log(
    'npx tsx bench/coverage.bench.ts [--accounts 1000] [--regions 17] [--latency 50] [--concurrency 16] [--region-concurrency 8] [--instances 5]',
  );
  process.exit(0);
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number`);
  return value;
}

const ACCOUNTS = arg('accounts', 1000);
const REGION_COUNT = arg('regions', 17);
const LATENCY = arg('latency', 50);
const CONCURRENCY = arg('concurrency', 16);
const REGION_CONCURRENCY = arg('region-concurrency', 8);
const INSTANCES = arg('instances', 5);

const REGIONS = BENCH_REGIONS.slice(0, REGION_COUNT);
const OUS = 10;

let calls = 0;
let inFlight = 0;
let peakInFlight = 0;
/** One simulated API call: LATENCY ms, then the value. */
async function call<T>(value: () => T): Promise<T> {
  calls += 1;
  inFlight += 1;
  peakInFlight = Math.max(peakInFlight, inFlight);
  await new Promise((resolve) => setTimeout(resolve, LATENCY));
  inFlight -= 1;
  return value();
}

const accountId = (n: number) => String(100000000000 + n);
const instanceId = (account: string, region: string, i: number) =>
  `i-${account.slice(-6)}${REGIONS.indexOf(region).toString(16).padStart(2, '0')}${i.toString(16).padStart(8, '0')}`;

const directory: OrganizationDirectory = {
  listChildOus: (parent) =>
    call(() =>
      parent === 'r-ab12'
        ? Array.from({ length: OUS }, (_, i) => `ou-ab12-${String(i).padStart(8, '0')}`)
        : [],
    ),
  listAccounts: (parent) =>
    call((): DirectoryAccount[] => {
      if (!parent.startsWith('ou-')) return [];
      const ou = Number(parent.slice(-8));
      const out: DirectoryAccount[] = [];
      for (let n = ou; n < ACCOUNTS; n += OUS)
        out.push({ id: accountId(n), name: `account-${n}`, state: 'ACTIVE' });
      return out;
    }),
};

function reader(account: string): AccountReader {
  return {
    enabledRegions: () => call(() => REGIONS),
    runningInstances: (region) =>
      call(() =>
        Array.from({ length: INSTANCES }, (_, i) => ({
          instanceId: instanceId(account, region, i),
          name: `web-${i}`,
        })),
      ),
    managedInstances: (region) =>
      call(() =>
        Array.from({ length: Math.max(0, INSTANCES - 1) }, (_, i) => ({
          instanceId: instanceId(account, region, i),
          pingStatus: 'Online',
        })),
      ),
    association: (region) =>
      call(() => ({
        associationId: `assoc-${account}-${region}`,
        lastExecutionStatus: 'Success',
        lastExecutionDate: '2026-11-29T05:00:00Z',
      })),
    associationCompliance: (region) =>
      call(() =>
        Array.from({ length: Math.max(0, INSTANCES - 1) }, (_, i) => ({
          instanceId: instanceId(account, region, i),
          status: i === INSTANCES - 2 ? 'NON_COMPLIANT' : 'COMPLIANT',
        })),
      ),
    clusters: (region) => call(() => (REGIONS.indexOf(region) % 3 === 0 ? [`cluster-${region}`] : [])),
    ecrOwnership: () =>
      call((): OwnershipRecord => ({
        version: 1,
        deploymentId: 'falcon-org',
        accountId: account,
        connections: Object.fromEntries(REGIONS.map((region) => [region, `conn-${account}-${region}`])),
        pending: [],
      })),
  };
}

const deps: CoverageDeps = {
  directory,
  readers: {
    open: (account) =>
      call(() => {
        if (Number(account.id) % 100 === 99) {
          throw Object.assign(new Error('not authorized to perform sts:AssumeRole'), {
            name: 'AccessDenied',
          });
        }
        return reader(account.id);
      }),
  },
  falconHosts: {
    hostsInAccount: (account) =>
      call(() =>
        REGIONS.flatMap((region) =>
          Array.from({ length: Math.max(0, INSTANCES - 2) }, (_, i): FalconHost => ({
            deviceId: `dev-${instanceId(account, region, i)}`,
            instanceId: instanceId(account, region, i),
            serviceProviderAccountId: account,
            serviceProvider: 'AWS_EC2_V2',
            zoneGroup: `${region}a`,
            platformName: 'Linux',
            agentVersion: '7.20.17308',
            lastSeen: '2026-11-29T05:55:00Z',
            status: 'normal',
          })),
        ),
      ),
  },
  registries: {
    listConnections: () =>
      call((): RegistryConnectionInfo[] =>
        Array.from({ length: ACCOUNTS }, (_, n) =>
          REGIONS.map((region) => ({
            id: `conn-${accountId(n)}-${region}`,
            url: `${accountId(n)}.dkr.ecr.${region}.amazonaws.com`,
            state: 'connected',
          })),
        ).flat(),
      ),
  },
  runsTable: {
    list: () =>
      call((): RunsTableItem[] =>
        Array.from({ length: ACCOUNTS }, (_, n) =>
          REGIONS.filter((_, r) => r % 3 === 0).map((region): RunsTableItem => ({
            accountId: accountId(n),
            region,
            cluster: `cluster-${region}`,
            verdict: { kind: 'eligible', code: 'eligible', reason: 'eligible' } as unknown as NonNullable<
              RunsTableItem['verdict']
            >,
          })),
        ).flat(),
      ),
  },
  now: () => new Date(),
};

const peaks = sampleMemory();

console.log(
  `simulated organization: ${ACCOUNTS} accounts × ${REGIONS.length} regions, ${LATENCY} ms per call, ` +
    `${CONCURRENCY} accounts × ${REGION_CONCURRENCY} regions at once …`,
);
const start = performance.now();
const store = await ReportStore.open();
const run = await readCoverage(
  deps,
  {
    scope: { partition: 'aws', homeRegion: 'us-east-1', targets: ['r-ab12'], excludeAccounts: [] },
    features: { ssmDistributor: REGIONS, ecrConnections: 'enabled', eksProtection: REGIONS },
    associationName: 'falcon-org-falcon-sensor',
    deploymentId: 'falcon-org',
    concurrency: CONCURRENCY,
    regionConcurrency: REGION_CONCURRENCY,
  },
  (result) => store.add(result),
);
const report = store.summary(run);
const built = performance.now();
// The heatmap alone, for its size and time (publishReport renders it again as it publishes).
let htmlBytes = 0;
await writeHtmlReport(report, store, (chunk) => {
  htmlBytes += Buffer.byteLength(chunk);
});
const rendered = performance.now();
let requests = 0;
let bytesSent = 0;
let latestJsonBytes = 0;
const sink = {
  send: async (command: { input: { Body?: unknown; Key?: string } }) => {
    requests += 1;
    const body = command.input.Body;
    let bytes = 0;
    if (typeof body === 'string') bytes = Buffer.byteLength(body);
    else if (Buffer.isBuffer(body)) bytes = body.length;
    else if (body instanceof Readable) {
      // A spooled document: read to its end, as S3 would.
      for await (const chunk of body) bytes += (chunk as Buffer).length;
    }
    bytesSent += bytes;
    if (command.input.Key === 'latest.json') latestJsonBytes = bytes;
    return {};
  },
};
// As the function does: publish to S3 and CloudWatch stand-ins that accept and drop every request
// (the time of the requests is not ours).
const published = await publishReport(
  report,
  store,
  { bucket: 'bench', namespace: 'FalconOrg/Coverage' },
  {
    s3: sink,
    cloudWatch: sink,
  },
);
const done = performance.now();
await store.close();
const peakRss = peaks.peakRss();
const peakHeap = peaks.peakHeap();
peaks.stop();

const seconds = (ms: number): number => Math.round(ms) / 1000;
const result = {
  command: `npx tsx bench/coverage.bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  node: process.version,
  organization: {
    accounts: ACCOUNTS,
    regions: REGIONS.length,
    latencyMsPerCall: LATENCY,
    instancesPerRegion: INSTANCES,
    concurrency: CONCURRENCY,
    regionConcurrency: REGION_CONCURRENCY,
  },
  calls,
  peakCallsInFlight: peakInFlight,
  report: {
    accounts: report.accounts.length,
    unreadableAccounts: report.accounts.filter((a) => !a.readable).length,
    cells: report.cells.length,
    items: report.cells.reduce((n, c) => n + c.counts.total, 0),
    htmlMiB: mib(htmlBytes),
    latestJsonMiB: mib(latestJsonBytes),
    publishedObjects: published.keys.length,
    publishedMiB: mib(bytesSent),
    publishRequests: requests,
    metricData: published.metrics,
    totals: report.totals,
  },
  seconds: {
    build: seconds(built - start),
    html: seconds(rendered - built),
    publish: seconds(done - rendered),
    total: seconds(done - start),
  },
  memory: {
    /** V8's old-space limit (NODE_OPTIONS=--max-old-space-size=N sets it). */
    heapLimitMiB: mib(getHeapStatistics().heap_size_limit),
    peakRssMiB: mib(peakRss),
    peakHeapUsedMiB: mib(peakHeap),
    maxRssMiBFromResourceUsage: mib(process.resourceUsage().maxRSS * 1024),
  },
  goals: { totalSeconds: 120, peakRssMiB: 512, htmlMiB: 5 },
  met: {
    time: done - start < 120_000,
    memory: Math.max(peakRss, process.resourceUsage().maxRSS * 1024) < 512 * 1024 * 1024,
    html: htmlBytes <= 5 * 1024 * 1024,
  },
};
await mkdir('bench/results', { recursive: true });
const file = join('bench/results', `coverage-${result.date.replace(/[:.]/g, '-')}.json`);
await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
console.log(`written to ${file}`);
if (!result.met.time || !result.met.memory || !result.met.html) process.exitCode = 1;

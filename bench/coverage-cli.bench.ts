/**
 * The CLI's own cost, measured where users pay it: the built `falcon-org status --json` (real SDK
 * clients, real Falcon client) as a child process against the local HTTP stand-in of the AWS operations
 * status calls (test/fakes/aws, reached through AWS_ENDPOINT_URL) and the Falcon stand-in
 * (test/fakes/falcon-server.ts), both answering at once from this process. What the child spends is the
 * CLI's: wall seconds, CPU seconds and peak RSS (from /usr/bin/time), with no heap cap. Goal at
 * 1,000 accounts × 17 regions: ≤ 60 s and ≤ 512 MiB.
 *
 * With `--baseline <commit>` the same organization is also read, in the same run, by the CLI of that
 * commit (default 46db23a, the code before issue 19), extracted with `git archive` into a directory
 * under the system's temporary directory and built there with `tsc` (never committed); the stand-in then
 * also answers ListComplianceItems without ResourceIds, which that code sends.
 *
 *   npm run build && npx tsx bench/coverage-cli.bench.ts [--accounts 1000] [--regions 17]
 *     [--instances 5] [--baseline 46db23a] [--runs 1] [--profile <dir>]
 *
 * The organization is the one bench/coverage.bench.ts simulates: per account and region INSTANCES
 * running instances (the last one not SSM-managed, one whose association failed, the rest compliant),
 * three of them seen by Falcon; an EKS cluster in every third region (its first instance a node of it,
 * with a protected run in the runs table); the ECR ownership record and an enabled Falcon connection per
 * region; 1 account in 100 refuses the coverage role. Results are printed as one JSON document and
 * written to bench/results/coverage-cli-<timestamp>.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, open as openFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ModelAccount, ModelInstance, ModelRegion, OrgModel } from '../test/fakes/aws/model.js';
import { AwsStandIn } from '../test/fakes/aws/server.js';
import { FakeFalconServer } from '../test/fakes/falcon-server.js';
import { BENCH_REGIONS } from './regions.js';
import { mib } from './memory.js';

const HELP =
  'npm run build && npx tsx bench/coverage-cli.bench.ts [--accounts 1000] [--regions 17] [--instances 5] [--baseline 46db23a] [--runs 1] [--profile <dir>]';
if (process.argv.includes('--help')) {
  console.log(HELP);
  process.exit(0);
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value < 1) throw new Error(`--${name} must be a positive number`);
  return value;
}
function text(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const ACCOUNTS = arg('accounts', 1000);
const REGIONS = BENCH_REGIONS.slice(0, arg('regions', 17));
const INSTANCES = arg('instances', 5);
const RUNS = arg('runs', 1);
const BASELINE = text('baseline');
/** `--profile <dir>`: the CLI writes a V8 CPU profile there (open it in Chrome's DevTools). */
const PROFILE = text('profile');
const OUS = 10;
const ROOT = 'r-ab12';
const TABLE = 'falcon-org-eks-runs';
const ASSOCIATION = 'falcon-org-falcon-sensor';
const OWNERSHIP = '/falcon-org/ecr-connections/ownership';
const STARTED = new Date().toISOString();

const accountId = (n: number): string => String(100000000000 + n);
const ouOf = (n: number): string => `ou-ab12-${String(n % OUS).padStart(8, '0')}`;
const clusterRegion = (r: number): boolean => r % 3 === 0;
const instanceId = (n: number, r: number, i: number): string =>
  `i-${String(n).padStart(6, '0')}${r.toString(16).padStart(2, '0')}${i.toString(16).padStart(9, '0')}`;

/** Registry connection IDs the Falcon stand-in gave, per account and region (for the ownership records). */
const connectionIds = new Map<string, string>();

function region(n: number, r: number): ModelRegion {
  const name = REGIONS[r] ?? '';
  const cluster = clusterRegion(r) ? `cluster-${name}` : undefined;
  const instances: ModelInstance[] = Array.from({ length: INSTANCES }, (_, i) => {
    const last = i === INSTANCES - 1;
    return {
      id: instanceId(n, r, i),
      name: `web-${i}`,
      ...(i === 0 && cluster !== undefined ? { tags: { 'eks:cluster-name': cluster } } : {}),
      ...(last ? {} : { ssm: 'Online' as const, association: i === INSTANCES - 2 ? 'Failed' : 'Success' }),
    };
  });
  return {
    instances,
    association: {
      id: `0000${String(n).padStart(8, '0')}-0000-0000-0000-${String(r).padStart(12, '0')}`,
      name: ASSOCIATION,
      status: 'Success',
    },
    clusters: cluster === undefined ? [] : [cluster],
  };
}

function account(n: number): ModelAccount {
  const id = accountId(n);
  return {
    id,
    name: `account-${n}`,
    state: 'ACTIVE',
    assumable: n % 100 !== 99,
    enabledRegions: REGIONS,
    region: (name) => {
      const r = REGIONS.indexOf(name);
      return r < 0 ? undefined : region(n, r);
    },
    parameter: (name) =>
      name === OWNERSHIP
        ? JSON.stringify({
            version: 1,
            deploymentId: 'falcon-org',
            accountId: id,
            connections: Object.fromEntries(REGIONS.map((r) => [r, connectionIds.get(`${id}@${r}`) ?? ''])),
            pending: [],
          })
        : undefined,
  };
}

const runsItems = (): Record<string, unknown>[] =>
  Array.from({ length: ACCOUNTS }, (_, n) =>
    REGIONS.flatMap((name, r) => {
      if (!clusterRegion(r)) return [];
      const cluster = `cluster-${name}`;
      const id = accountId(n);
      return [
        {
          pk: `${id}#${name}#${cluster}`,
          accountId: id,
          region: name,
          clusterName: cluster,
          verdict: { kind: 'eligible', code: 'eligible', reason: 'API access, public endpoint, nodes' },
          lastRun: {
            runId: `run-${id}-${name}`,
            accountId: id,
            region: name,
            cluster,
            mode: 'install',
            outcome: 'protected',
            components: [{ name: 'operator', version: '1.5.0', status: 'applied' }],
            startedAt: '2026-11-29T05:00:00Z',
            finishedAt: '2026-11-29T05:05:00Z',
            durationsMs: { apply: 5000 },
          },
        },
      ];
    }),
  ).flat();

const model: OrgModel = {
  organizationId: 'o-a1b2c3d4e5',
  // The management account is an account of the organization like the others (account 0, under an OU).
  managementAccountId: accountId(0),
  rootId: ROOT,
  children: (parent) => {
    if (parent === ROOT) {
      return {
        ous: Array.from({ length: OUS }, (_, i) => ({ id: ouOf(i), name: `team-${i}` })),
        accounts: [],
      };
    }
    if (!parent.startsWith('ou-')) return { ous: [], accounts: [] };
    const ou = Number(parent.slice(-8));
    const accounts: string[] = [];
    for (let n = ou; n < ACCOUNTS; n += OUS) accounts.push(accountId(n));
    return { ous: [], accounts };
  },
  account: (id) => {
    const n = Number(id) - 100000000000;
    return Number.isInteger(n) && n >= 0 && n < ACCOUNTS ? account(n) : undefined;
  },
  runsTable: (() => {
    let items: Record<string, unknown>[] | undefined;
    return () => (items ??= runsItems());
  })(),
  runsTableName: TABLE,
  stackOutputs: (name) => (name === 'falcon-org' ? { EksRunsTable: TABLE } : undefined),
};

/** The built CLI of a commit, in a directory of its own (built once, reused by later runs). */
function baselineCli(commit: string): string {
  const dir = join(tmpdir(), `falcon-org-baseline-${commit}`);
  const main = join(dir, 'dist', 'lib', 'cli', 'main.js');
  if (!existsSync(main)) {
    console.error(`building the CLI of ${commit} in ${dir} …`);
    execFileSync('bash', [
      '-c',
      `set -e; mkdir -p "${dir}"; git archive ${commit} | tar -x -C "${dir}"; ln -sfn "${resolve('node_modules')}" "${dir}/node_modules"; cd "${dir}"; npx tsc -p tsconfig.build.json`,
    ]);
  }
  return join(dir, 'bin', 'falcon-org.js');
}

interface CliRun {
  readonly exitCode: number | null;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly peakRssMiB: number;
  readonly outputMiB: number;
  readonly awsRequests: number;
  readonly awsConnections: number;
  readonly peakOpenAwsConnections: number;
  readonly falconRequests: number;
  readonly totals?: unknown;
  readonly cells?: number;
  readonly stderrTail: string;
}

/** The totals object at the end of a report document (both layouts end with it), and the cell count. */
async function tailOf(file: string): Promise<{ totals?: unknown; cells?: number }> {
  const size = statSync(file).size;
  const handle = await openFile(file, 'r');
  try {
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const tail = buffer.toString('utf8');
    const at = tail.lastIndexOf('"totals"');
    if (at < 0) return {};
    let depth = 0;
    let start = -1;
    for (let i = at; i < tail.length; i += 1) {
      if (tail[i] === '{') {
        if (depth === 0) start = i;
        depth += 1;
      } else if (tail[i] === '}') {
        depth -= 1;
        if (depth === 0) {
          const totals = JSON.parse(tail.slice(start, i + 1)) as Record<string, Record<string, number>>;
          const cells = Object.values(totals).reduce(
            (n, t) => n + Object.values(t).reduce((a, b) => a + b, 0),
            0,
          );
          return { totals, cells };
        }
      }
    }
    return {};
  } finally {
    await handle.close();
  }
}

async function runCli(
  cli: string,
  config: string,
  dir: string,
  label: string,
  aws: AwsStandIn,
  falcon: FakeFalconServer,
): Promise<CliRun> {
  aws.reset();
  falcon.requests.length = 0;
  const out = join(dir, `${label}.json`);
  const err = join(dir, `${label}.err`);
  const times = join(dir, `${label}.time`);
  const stdout = openSync(out, 'w');
  const stderr = openSync(err, 'w');
  const start = performance.now();
  const exitCode = await new Promise<number | null>((resolveExit, reject) => {
    const child = spawn(
      '/usr/bin/time',
      [
        '-f',
        '%e %U %S %M',
        '-o',
        times,
        process.execPath,
        ...(PROFILE === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', PROFILE]),
        cli,
        'status',
        '--config',
        config,
        '--json',
        '--runs-table',
        TABLE,
      ],
      {
        stdio: ['ignore', stdout, stderr],
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          AWS_ENDPOINT_URL: aws.url,
          AWS_ACCESS_KEY_ID: 'AKIDHOMEEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'bench-only',
          AWS_REGION: 'us-east-1',
          AWS_EC2_METADATA_DISABLED: 'true',
          FALCON_CLIENT_ID: falcon.credentials.clientId,
          FALCON_CLIENT_SECRET: falcon.credentials.clientSecret,
          NO_COLOR: '1',
        },
      },
    );
    child.on('error', reject);
    child.on('exit', (code) => resolveExit(code));
  });
  const wall = (performance.now() - start) / 1000;
  closeSync(stdout);
  closeSync(stderr);
  const [elapsed = '0', user = '0', system = '0', maxKiB = '0'] =
    readFileSync(times, 'utf8').trim().split('\n').at(-1)?.split(' ') ?? [];
  const tail = await tailOf(out);
  const result: CliRun = {
    exitCode,
    wallSeconds: Math.round(Number(elapsed) * 10) / 10 || Math.round(wall * 10) / 10,
    cpuSeconds: Math.round((Number(user) + Number(system)) * 10) / 10,
    peakRssMiB: mib(Number(maxKiB) * 1024),
    outputMiB: mib(statSync(out).size),
    awsRequests: aws.total,
    awsConnections: aws.connections,
    peakOpenAwsConnections: aws.peakOpenConnections,
    falconRequests: falcon.requests.length,
    ...tail,
    stderrTail: readFileSync(err, 'utf8').trim().split('\n').slice(-2).join(' | '),
  };
  await rm(out, { force: true });
  return result;
}

// ---- the organization behind the stand-ins ----------------------------------------------------------
console.error(
  `organization: ${ACCOUNTS} accounts × ${REGIONS.length} regions, ${INSTANCES} instances per region …`,
);
const falcon = await FakeFalconServer.start();
for (let n = 0; n < ACCOUNTS; n += 1) {
  const id = accountId(n);
  REGIONS.forEach((name, r) => {
    const connection = falcon.addConnection({
      url: `https://${id}.dkr.ecr.${name}.amazonaws.com`,
      alias: `falcon-org ${id} ${name}`,
    });
    connection.state = 'enabled';
    connectionIds.set(`${id}@${name}`, connection.id);
    for (let i = 0; i < Math.min(3, INSTANCES - 1); i += 1) {
      falcon.hosts.add({
        instance_id: instanceId(n, r, i),
        service_provider_account_id: id,
        hostname: `web-${i}`,
        zone_group: `${name}a`,
      });
    }
  });
}
const aws = await AwsStandIn.start(model, { listComplianceItemsOfEveryResource: BASELINE !== undefined });
const dir = mkdtempSync(join(tmpdir(), 'falcon-org-cli-bench-'));
const config = join(dir, 'org.yaml');
writeFileSync(
  config,
  [
    'resourcePrefix: falcon-org',
    `falcon: { cloud: us-1, baseUrl: '${falcon.baseUrl}', credentials: { source: environment } }`,
    'aws: { partition: aws, homeRegion: us-east-1, accountType: management }',
    `organization: { id: o-a1b2c3d4e5, targets: [${ROOT}] }`,
    'features:',
    `  ssmDistributor: { enabled: true, regions: [${REGIONS.join(', ')}] }`,
    `  eksProtection: { enabled: true, regions: [${REGIONS.join(', ')}] }`,
    `  ecrConnections: { enabled: true, regions: [${REGIONS.join(', ')}] }`,
    'coverage: { enabled: true }',
  ].join('\n'),
);

const current = resolve('bin/falcon-org.js');
if (!existsSync(resolve('dist/lib/cli/main.js'))) throw new Error('run "npm run build" first');
const baseline = BASELINE === undefined ? undefined : baselineCli(BASELINE);

const runs: Record<string, CliRun[]> = { current: [] };
if (baseline !== undefined) runs[`baseline ${BASELINE}`] = [];
try {
  for (let i = 0; i < RUNS; i += 1) {
    // Interleaved, so a change in the machine's load falls on both.
    console.error(`run ${i + 1}/${RUNS}: current …`);
    runs.current?.push(await runCli(current, config, dir, `current-${i}`, aws, falcon));
    console.error(JSON.stringify(runs.current?.at(-1)));
    if (baseline !== undefined) {
      console.error(`run ${i + 1}/${RUNS}: baseline ${BASELINE} …`);
      const key = `baseline ${BASELINE}`;
      runs[key]?.push(await runCli(baseline, config, dir, `baseline-${i}`, aws, falcon));
      console.error(JSON.stringify(runs[key]?.at(-1)));
    }
  }
} finally {
  await aws.close();
  await falcon.close();
  await rm(dir, { recursive: true, force: true });
}

const best = (list: readonly CliRun[] | undefined): CliRun | undefined =>
  list === undefined ? undefined : [...list].sort((a, b) => a.wallSeconds - b.wallSeconds)[0];
const now = best(runs.current);
const before = BASELINE === undefined ? undefined : best(runs[`baseline ${BASELINE}`]);
const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || a === 0 ? undefined : Math.round((b / a) * 10) / 10;
const result = {
  command: `npx tsx bench/coverage-cli.bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
  date: STARTED,
  node: process.version,
  load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  organization: { accounts: ACCOUNTS, regions: REGIONS.length, instancesPerRegion: INSTANCES },
  runs,
  ...(before !== undefined && now !== undefined
    ? {
        baselineOverCurrent: {
          wall: ratio(now.wallSeconds, before.wallSeconds),
          cpu: ratio(now.cpuSeconds, before.cpuSeconds),
          peakRss: ratio(now.peakRssMiB, before.peakRssMiB),
          awsConnections: ratio(now.awsConnections, before.awsConnections),
        },
      }
    : {}),
  goals: { wallSeconds: 60, peakRssMiB: 512 },
  met:
    now === undefined
      ? undefined
      : { time: now.wallSeconds <= 60, memory: now.peakRssMiB <= 512, exitCode: now.exitCode === 3 },
};
await mkdir('bench/results', { recursive: true });
const file = join('bench/results', `coverage-cli-${STARTED.replace(/[:.]/g, '-')}.json`);
await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));
console.error(`written to ${file}`);
if (result.met !== undefined && !(result.met.time && result.met.memory && result.met.exitCode))
  process.exitCode = 1;

/**
 * What one AWS request costs the AWS SDK v3 in CPU, so the CLI's own figure (bench/coverage-cli.bench.ts)
 * can be read against it. One SSM `DescribeInstanceInformation` call after another (50 at a time, one
 * keep-alive pool) against a local endpoint in a child process that answers at once, measured with
 * `process.cpuUsage()` in this process (the endpoint's CPU is not counted):
 * - `reused`: one client sends every request — the SDK's floor per request;
 * - `perClient`: a new client per request (what a client per account × service × region costs when each
 *   sends one request);
 * - `perTwoRequests`: a new client every two requests, the mix of `falcon-org status` (about 52 clients
 *   per account for about 103 requests).
 * The SDK has no per-request credentials, so clients of different accounts cannot be one client.
 *
 *   npx tsx bench/sdk-request-cost.bench.ts [--requests 20000] [--cli-requests 103039]
 *
 * `--cli-requests` is the CLI's request count to project (103,039 at 1,000 accounts × 17 regions).
 */
import { spawn } from 'node:child_process';
import { Agent } from 'node:http';
import { once } from 'node:events';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value < 1) throw new Error(`--${name} must be a positive number`);
  return value;
}
if (process.argv.includes('--help')) {
  console.log('npx tsx bench/sdk-request-cost.bench.ts [--requests 20000] [--cli-requests 103039]');
  process.exit(0);
}
const REQUESTS = arg('requests', 20000);
const CLI_REQUESTS = arg('cli-requests', 103039);
const IN_FLIGHT = 50;

// The endpoint: a child process, so its CPU is not this process's.
const server = spawn(
  process.execPath,
  [
    '-e',
    `require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => {
       res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'bench' });
       res.end('{"InstanceInformationList":[]}'); }); })
     .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const [portLine] = (await once(server.stdout, 'data')) as [Buffer];
const endpoint = `http://127.0.0.1:${portLine.toString().trim()}`;

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const newClient = (): SSMClient =>
  new SSMClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-only' },
    maxAttempts: 1,
    requestHandler: { httpAgent: agent },
  });

/** CPU milliseconds per request when a new client sends every `perClient` requests (0: one client). */
async function measure(requests: number, perClient: number): Promise<number> {
  const shared = newClient();
  let sent = 0;
  let client = shared;
  const next = (): SSMClient => {
    if (perClient > 0 && sent % perClient === 0) client = newClient();
    sent += 1;
    return client;
  };
  const start = process.cpuUsage();
  for (let done = 0; done < requests; done += IN_FLIGHT) {
    await Promise.all(
      Array.from({ length: Math.min(IN_FLIGHT, requests - done) }, () =>
        next().send(new DescribeInstanceInformationCommand({})),
      ),
    );
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / requests;
}

try {
  await measure(2000, 0); // warm-up: modules, JIT, connections
  await measure(2000, 1);
  const reused = await measure(REQUESTS, 0);
  const perClient = await measure(REQUESTS, 1);
  const perTwoRequests = await measure(REQUESTS, 2);
  const round = (n: number): number => Math.round(n * 1000) / 1000;
  console.log(
    JSON.stringify({
      command: `npx tsx bench/sdk-request-cost.bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
      node: process.version,
      load: (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      requests: REQUESTS,
      cpuMsPerRequest: {
        reused: round(reused),
        perClient: round(perClient),
        perTwoRequests: round(perTwoRequests),
      },
      ratioPerClientToReused: Math.round((perClient / reused) * 100) / 100,
      cliRequests: CLI_REQUESTS,
      cliSdkCpuSeconds: {
        reused: Math.round((CLI_REQUESTS * reused) / 100) / 10,
        perTwoRequests: Math.round((CLI_REQUESTS * perTwoRequests) / 100) / 10,
      },
    }),
  );
} finally {
  agent.destroy();
  server.kill();
}

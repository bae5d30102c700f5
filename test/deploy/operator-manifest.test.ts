import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHomeClients } from '../../src/aws/clients.js';
import { sha256Hex } from '../../src/cluster/manifest.js';
import { UserInputError } from '../../src/config/errors.js';
import type { ResolvedConfig } from '../../src/config/load.js';
import type { DeployOutcome, DeployRequest } from '../../src/deploy/deployer.js';
import { OperatorManifestChecksumError } from '../../src/deploy/errors.js';
import { createProgress } from '../../src/deploy/progress.js';
import { runDeploy } from '../../src/deploy/run-deploy.js';
import { captureOutput, mockAws, RecordingDeployer, testConfig } from './helpers.js';
import { tempDir } from '../infra/helpers.js';

const aws = mockAws();
const env = { FALCON_CLIENT_ID: 'MARKER-id', FALCON_CLIENT_SECRET: 'MARKER-secret' };
const FIXTURE = new URL('../cluster/fixtures/operator-v1.0.0.yaml', import.meta.url).pathname;
const BYTES = readFileSync(FIXTURE);
const SHA = sha256Hex(BYTES);
const OTHER_SHA = 'f'.repeat(64);
const KEY_PATH = join('operator', 'v1.0.0', 'falcon-operator.yaml');

function eksConfig(sha: string, extra = ''): ResolvedConfig {
  return testConfig(`  eksProtection:
    enabled: true
    regions: [us-east-1]
    deployer:
      operator:
        version: v1.0.0
        manifestSha256: "${sha}"
${extra}`);
}

/** Reads the staged manifest while the deploy runs (the staging directory is gone afterwards). */
class ManifestReadingDeployer extends RecordingDeployer {
  readonly seen: { dir: string; bytes: Buffer }[] = [];
  override async deploy(request: DeployRequest): Promise<DeployOutcome> {
    const dir = request.appOptions?.operatorManifestDir ?? '';
    this.seen.push({ dir, bytes: readFileSync(join(dir, KEY_PATH)) });
    return super.deploy(request);
  }
}

function deps(deployer: RecordingDeployer, fetchImpl?: typeof fetch) {
  const output = captureOutput();
  return {
    output,
    deps: {
      deployer,
      clients: createHomeClients({ region: 'us-east-1' }),
      env,
      progress: createProgress(output),
      wait: { sleep: () => Promise.resolve(), initialDelayMs: 1 },
      ...(fetchImpl ? { fetch: fetchImpl } : {}),
    },
  };
}

const noNetwork: typeof fetch = () => Promise.reject(new Error('no network in this test'));

let server: Server;
let base = '';
const requests: string[] = [];
let body: Buffer = BYTES;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/v1.0.0/falcon-operator.yaml') res.writeHead(200).end(body);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  aws.healthy();
  aws.stackSets([]);
  requests.length = 0;
  body = BYTES;
});
afterEach(() => aws.reset());

/** The schema takes only https release URLs; the local server is plain http on 127.0.0.1. */
function servedFrom(config: ResolvedConfig, path: string): ResolvedConfig {
  const copy = structuredClone(config);
  (copy.features.eksProtection.deployer.operator as { manifestUrl?: string }).manifestUrl = `${base}${path}`;
  return copy;
}

describe('deploy stages the pinned operator manifest first', () => {
  it('fetches the release URL once, checks it and hands the staged copy to the deploy', async () => {
    const deployer = new ManifestReadingDeployer();
    const { deps: d, output } = deps(deployer, fetch);
    const result = await runDeploy(
      servedFrom(eksConfig(SHA), '/v1.0.0/falcon-operator.yaml'),
      { yes: true },
      d,
    );
    expect(result.ok).toBe(true);
    expect(requests).toEqual(['/v1.0.0/falcon-operator.yaml']);
    expect(deployer.seen).toHaveLength(1);
    expect(deployer.seen[0]?.bytes.equals(BYTES)).toBe(true);
    expect(output.all()).toContain('SHA-256 checked) → deployer/operator/v1.0.0/falcon-operator.yaml');
    // The staging directory is removed once the deploy is over.
    expect(existsSync(deployer.seen[0]?.dir ?? '/')).toBe(false);
  });

  it('aborts on a checksum mismatch before anything else: no pre-flight, no deploy', async () => {
    body = Buffer.from('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tampered\n');
    const deployer = new RecordingDeployer();
    const { deps: d } = deps(deployer, fetch);
    const error = await runDeploy(
      servedFrom(eksConfig(SHA), '/v1.0.0/falcon-operator.yaml'),
      { yes: true },
      d,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperatorManifestChecksumError);
    expect(error).toBeInstanceOf(UserInputError); // exit code 2
    const message = (error as Error).message;
    expect(message).toContain('features.eksProtection.deployer.operator.manifestSha256');
    expect(message).toContain(`expects ${SHA}`);
    expect(message).toContain(`SHA-256 ${sha256Hex(body)}`);
    expect(message).toContain('nothing was deployed');
    expect(deployer.calls).toEqual([]);
    expect(aws.sts.calls()).toHaveLength(0);
  });

  it('reports an unreachable release URL and deploys nothing', async () => {
    const deployer = new RecordingDeployer();
    const { deps: d } = deps(deployer, fetch);
    await expect(
      runDeploy(servedFrom(eksConfig(SHA), '/v9.9.9/falcon-operator.yaml'), { yes: true }, d),
    ).rejects.toThrow(/HTTP 404/);
    expect(requests).toEqual(['/v9.9.9/falcon-operator.yaml']);
    expect(deployer.calls).toEqual([]);
  });

  it('takes --operator-manifest FILE instead of downloading', async () => {
    const deployer = new ManifestReadingDeployer();
    const { deps: d } = deps(deployer, noNetwork);
    const result = await runDeploy(eksConfig(SHA), { yes: true, operatorManifest: FIXTURE }, d);
    expect(result.ok).toBe(true);
    expect(deployer.seen[0]?.bytes.equals(BYTES)).toBe(true);
  });

  it('checks a local file too: a copy that does not match deploys nothing', async () => {
    const dir = tempDir('manifest-local');
    const file = join(dir, 'falcon-operator.yaml');
    writeFileSync(file, Buffer.concat([BYTES, Buffer.from('\n# edited\n')]));
    const deployer = new RecordingDeployer();
    const { deps: d } = deps(deployer, noNetwork);
    await expect(runDeploy(eksConfig(SHA), { yes: true, operatorManifest: file }, d)).rejects.toThrow(
      OperatorManifestChecksumError,
    );
    expect(deployer.calls).toEqual([]);
  });

  it('uses the configured manifestFile, and names the flag when that file is missing', async () => {
    const deployer = new ManifestReadingDeployer();
    const configured = eksConfig(SHA, `        manifestFile: ${FIXTURE}\n`);
    await runDeploy(configured, { yes: true }, deps(deployer, noNetwork).deps);
    expect(deployer.seen[0]?.bytes.equals(BYTES)).toBe(true);
    await expect(
      runDeploy(
        eksConfig(SHA),
        { yes: true, operatorManifest: '/nonexistent/falcon-operator.yaml' },
        deps(deployer, noNetwork).deps,
      ),
    ).rejects.toThrow(/--operator-manifest: cannot read \/nonexistent\/falcon-operator.yaml/);
    expect(deployer.calls).toEqual(['deploy']);
  });

  it('stages nothing, and fetches nothing, when EKS protection is off', async () => {
    const deployer = new RecordingDeployer();
    const result = await runDeploy(testConfig(), { yes: true }, deps(deployer, noNetwork).deps);
    expect(result.ok).toBe(true);
    expect(deployer.deploys[0]?.appOptions?.operatorManifestDir).toBeUndefined();
  });

  it('refuses a mismatch with a configured checksum of another release', async () => {
    const deployer = new RecordingDeployer();
    await expect(
      runDeploy(
        eksConfig(OTHER_SHA),
        { yes: true, operatorManifest: FIXTURE },
        deps(deployer, noNetwork).deps,
      ),
    ).rejects.toThrow(
      `SHA-256 ${SHA}, but features.eksProtection.deployer.operator.manifestSha256 expects ${OTHER_SHA}`,
    );
    expect(deployer.calls).toEqual([]);
  });
});

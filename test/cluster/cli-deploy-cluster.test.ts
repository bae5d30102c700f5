import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerEksDeployCluster } from '../../src/cli/eks-deploy-cluster.js';
import { describeFailure } from '../../src/cli/exit.js';
import { configManifestSource, roleArnOfCaller } from '../../src/cluster/from-config.js';
import { sha256Hex } from '../../src/cluster/manifest.js';
import type { RunResult } from '../../src/eks/run-contract.js';
import { capture } from '../cli/helpers.js';
import { DeployerHarness, fixture } from './harness.js';

function configFile(dir: string, sha: string): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `falcon:
  cloud: us-2
  credentials:
    source: environment
aws:
  partition: aws
  homeRegion: us-east-1
organization:
  id: o-a1b2c3d4e5
  targets: [r-abcd]
features:
  eksProtection:
    enabled: true
    sensor: kernel
    admissionController: false
    deployer:
      operator:
        version: v1.0.0
        manifestSha256: ${sha}
        manifestFile: ${fileURLToPath(new URL('fixtures/operator-v1.0.0.yaml', import.meta.url))}
`,
  );
  return file;
}

describe('falcon-org eks deploy-cluster', () => {
  let h: DeployerHarness;
  let dir: string;
  beforeEach(async () => {
    h = await DeployerHarness.start();
    dir = mkdtempSync(join(tmpdir(), 'falcon-org-cli-'));
    vi.stubEnv('FALCON_CLIENT_ID', 'cli-id');
    vi.stubEnv('FALCON_CLIENT_SECRET', 'cli-secret-value');
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
    await h.close();
  });

  async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const output = capture();
    const program = new Command('falcon-org').exitOverride();
    program.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    registerEksDeployCluster(program, output, (config, _environment, options, log) =>
      Promise.resolve({
        ...h.deps(),
        manifests: configManifestSource(config),
        log,
        principalArn: options.roleArn ?? 'arn:aws:iam::111122223333:role/admin',
      }),
    );
    try {
      await program.parseAsync(['eks', 'deploy-cluster', ...args], { from: 'user' });
      return { code: 0, out: output.stdout, err: output.stderr };
    } catch (error) {
      const code =
        error instanceof Error && error.name === 'CommanderError' ? 2 : describeFailure(error, false).code;
      return { code, out: output.stdout, err: output.stderr };
    }
  }

  it('installs with the configured settings and the local manifest, prints the JSON result, then uninstalls', async () => {
    const config = configFile(dir, sha256Hex(fixture('v1.0.0')));
    const base = [
      '--config',
      config,
      '--account',
      '111122223333',
      '--region',
      'eu-west-1',
      '--cluster',
      'prod',
      '--json',
    ];
    const installed = await cli(base);
    expect(installed.code).toBe(0);
    const result = JSON.parse(installed.out.join('\n')) as RunResult;
    expect(result).toMatchObject({ cluster: 'prod', outcome: 'protected', mode: 'install' });
    const sensor = h.customResources().find((c) => c['kind'] === 'FalconNodeSensor')!;
    expect(sensor['spec']).toMatchObject({
      node: { backend: 'kernel' },
      falcon_api: { cloud_region: 'us-2' },
    });
    expect(h.customResources().map((c) => c['kind'])).toEqual(['FalconNodeSensor']);
    expect([...h.accessEntries.keys()]).toEqual([]);

    const removed = await cli([...base, '--uninstall']);
    expect(removed.code).toBe(0);
    expect((JSON.parse(removed.out.join('\n')) as RunResult).outcome).toBe('uninstalled');
    expect(h.customResources()).toEqual([]);
  });

  it('exits 1 with the reason when the manifest does not match its checksum', async () => {
    const config = configFile(dir, 'f'.repeat(64));
    const run = await cli([
      '--config',
      config,
      '--account',
      '111122223333',
      '--region',
      'eu-west-1',
      '--cluster',
      'prod',
    ]);
    expect(run.code).toBe(1);
    expect(run.out.join('\n')).toMatch(
      /prod \(111122223333\/eu-west-1\): failed\n {2}reason: operator manifest v1\.0\.0: SHA-256 is/,
    );
    expect(h.standIn.requests).toEqual([]);
  });

  it('rejects a bad account or compute mode with exit code 2 before doing anything', async () => {
    const config = configFile(dir, sha256Hex(fixture('v1.0.0')));
    const run = await cli([
      '--config',
      config,
      '--account',
      '12',
      '--region',
      'eu-west-1',
      '--cluster',
      'p',
      '--compute',
      'ec2',
    ]);
    expect(run.code).toBe(2);
    expect(h.eks.calls()).toEqual([]);
  });

  it('turns an assumed-role session into the role ARN the access entry needs', () => {
    expect(roleArnOfCaller('arn:aws:sts::111122223333:assumed-role/Admin/alice')).toBe(
      'arn:aws:iam::111122223333:role/Admin',
    );
    expect(roleArnOfCaller('arn:aws:iam::111122223333:user/bob')).toBe('arn:aws:iam::111122223333:user/bob');
  });
});

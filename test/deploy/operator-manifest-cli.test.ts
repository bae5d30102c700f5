import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/main.js';
import { sha256Hex } from '../../src/cluster/manifest.js';
import { captureOutput, configFile, createdDeployers, mockAws, nextDeployer } from './helpers.js';

// As in cli.test.ts: the toolkit gets a recording fake, the CDK app a stand-in; the rest is real.
vi.mock('../../src/deploy/toolkit-deployer.js', async () => {
  const { RecordingDeployer, createdDeployers: created } = await import('./helpers.js');
  return {
    ToolkitDeployer: class extends RecordingDeployer {
      constructor() {
        super();
        created.push(this);
      }
    },
  };
});
vi.mock('../../src/infra/app.js', () => ({ buildApp: () => ({}) }));

const aws = mockAws();
const FIXTURE = new URL('../cluster/fixtures/operator-v1.0.0.yaml', import.meta.url).pathname;
const SHA = sha256Hex(readFileSync(FIXTURE));
const saved = { id: process.env.FALCON_CLIENT_ID, secret: process.env.FALCON_CLIENT_SECRET };

const eks = (sha: string) => `  eksProtection:
    enabled: true
    regions: [us-east-1]
    deployer:
      operator:
        version: v1.0.0
        manifestSha256: "${sha}"
`;

beforeEach(() => {
  aws.healthy();
  aws.stackSets([]);
  process.env.FALCON_CLIENT_ID = 'MARKER-id';
  process.env.FALCON_CLIENT_SECRET = 'MARKER-secret';
  createdDeployers.length = 0;
  nextDeployer.toolkitMessages = [];
});
afterEach(() => {
  aws.reset();
  if (saved.id === undefined) delete process.env.FALCON_CLIENT_ID;
  else process.env.FALCON_CLIENT_ID = saved.id;
  if (saved.secret === undefined) delete process.env.FALCON_CLIENT_SECRET;
  else process.env.FALCON_CLIENT_SECRET = saved.secret;
});

describe('falcon-org deploy --operator-manifest', () => {
  it('exits 2 on a checksum mismatch with the setting and both digests, and deploys nothing', async () => {
    const other = 'a'.repeat(64);
    const output = captureOutput();
    const code = await run(
      ['deploy', '--config', configFile(eks(other)), '--operator-manifest', FIXTURE, '--json'],
      output,
    );
    expect(code).toBe(2);
    const result = JSON.parse(output.stdout.join('\n')) as { exitCode: number; error: { message: string } };
    expect(result.exitCode).toBe(2);
    expect(result.error.message).toContain(
      `SHA-256 ${SHA}, but features.eksProtection.deployer.operator.manifestSha256 expects ${other}`,
    );
    expect(createdDeployers.flatMap((d) => d.calls)).toEqual([]);
    expect(aws.sts.calls()).toHaveLength(0);
  });

  it('deploys with the staged copy when it matches', async () => {
    const output = captureOutput();
    const code = await run(
      ['deploy', '--config', configFile(eks(SHA)), '--operator-manifest', FIXTURE, '--yes'],
      output,
    );
    expect(code, output.all()).toBe(0);
    const options = createdDeployers[0]?.deploys[0]?.appOptions;
    expect(options?.operatorManifestDir).toEqual(expect.stringContaining('falcon-org-operator-'));
    expect(output.all()).toContain(`${FIXTURE} (`);
  });
});

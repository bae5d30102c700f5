import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/main.js';
import { sha256Hex } from '../../src/cluster/manifest.js';
import { dummyBundlesForAllHandlers, tempDir } from '../infra/helpers.js';
import { capture } from './helpers.js';

const FIXTURE = new URL('../cluster/fixtures/operator-v1.0.0.yaml', import.meta.url).pathname;
const SHA = sha256Hex(readFileSync(FIXTURE));

const configYaml = (sha: string) => `
falcon:
  cloud: us-1
aws:
  partition: aws
  homeRegion: us-east-1
organization:
  id: o-abcdefghij
  targets: [r-abcd]
features:
  eksProtection:
    enabled: true
    regions: [us-east-1]
    deployer:
      operator:
        version: v1.0.0
        manifestSha256: "${sha}"
`;

let dir: string;
let lambdaDir: string;
beforeAll(() => {
  dir = tempDir('cli-synth-manifest');
  lambdaDir = dummyBundlesForAllHandlers();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(lambdaDir, '..'), { recursive: true, force: true });
});

function configFile(name: string, sha: string): string {
  const file = join(dir, name);
  writeFileSync(file, configYaml(sha));
  return file;
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

function manifestPrefixes(out: string): unknown[] {
  const root = JSON.parse(readFileSync(join(out, 'falcon-org.template.json'), 'utf8')) as {
    Resources: Resources;
  };
  return Object.values(root.Resources)
    .filter((r) => r.Type === 'Custom::CDKBucketDeployment')
    .map((r) => r.Properties['DestinationBucketKeyPrefix'])
    .filter((p) => String(p).startsWith('deployer/operator/'));
}

describe('falcon-org synth --operator-manifest', () => {
  it('includes the checked local copy, uploaded to deployer/operator/<version>/', async () => {
    const out = join(dir, 'with');
    const output = capture();
    const args = ['synth', '--config', configFile('ok.yaml', SHA), '--out', out, '--lambda-dir', lambdaDir];
    const code = await run([...args, '--operator-manifest', FIXTURE], output);
    expect(code, output.stderr.join('\n')).toBe(0);
    expect(manifestPrefixes(out)).toEqual(['deployer/operator/v1.0.0/']);
    expect(output.stderr.join('\n')).toContain(`${FIXTURE} → deployer/operator/v1.0.0/falcon-operator.yaml`);
  }, 120_000);

  it('without a local copy fetches nothing, uploads none and says deploy will', async () => {
    const out = join(dir, 'without');
    const output = capture();
    const args = ['synth', '--config', configFile('ok.yaml', SHA), '--out', out, '--lambda-dir', lambdaDir];
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      expect(await run(args, output)).toBe(0);
    } finally {
      fetchSpy.mockRestore();
    }
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(manifestPrefixes(out)).toEqual([]);
    expect(output.stderr.join('\n')).toMatch(/"deploy" fetches the pinned release once/);
  }, 120_000);

  it('exits 2 on a checksum mismatch, naming the setting and both digests, and writes nothing', async () => {
    const out = join(dir, 'mismatch');
    const output = capture();
    const other = 'e'.repeat(64);
    const args = [
      'synth',
      '--config',
      configFile('other.yaml', other),
      '--out',
      out,
      '--lambda-dir',
      lambdaDir,
    ];
    expect(await run([...args, '--operator-manifest', FIXTURE], output)).toBe(2);
    const text = output.stderr.join('\n');
    expect(text).toContain(
      `SHA-256 ${SHA}, but features.eksProtection.deployer.operator.manifestSha256 expects ${other}`,
    );
    expect(() => readFileSync(join(out, 'falcon-org.template.json'))).toThrow(/ENOENT/);
  });
});

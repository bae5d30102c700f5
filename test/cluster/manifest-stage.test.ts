import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stageOperatorManifest } from '../../src/cluster/manifest-stage.js';
import { sha256Hex } from '../../src/cluster/manifest.js';
import { validateConfig } from '../../src/config/load.js';
import { fixture } from './harness.js';

const configWith = (operator: Record<string, string>) =>
  validateConfig({
    falcon: { cloud: 'us-1', credentials: { source: 'environment' } },
    aws: { partition: 'aws', homeRegion: 'us-east-1' },
    organization: { id: 'o-a1b2c3d4e5', targets: ['r-abcd'] },
    features: { eksProtection: { enabled: true, deployer: { operator } } },
  });

describe('staging the pinned operator manifest for deploy', () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'falcon-org-stage-'));
  });
  afterEach(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('downloads the release once, checks it and writes it where the deployer reads it', async () => {
    const bytes = fixture('v1.1.0');
    const urls: string[] = [];
    const fetchStub: typeof fetch = (input) => {
      urls.push(input instanceof Request ? input.url : input.toString());
      return Promise.resolve(new Response(bytes));
    };
    const staged = await stageOperatorManifest(
      configWith({ version: 'v1.1.0', manifestSha256: sha256Hex(bytes) }),
      out,
      fetchStub,
    );
    expect(urls).toEqual([
      'https://github.com/crowdstrike/falcon-operator/releases/download/v1.1.0/falcon-operator.yaml',
    ]);
    expect(staged).toEqual({
      file: join(out, 'operator/v1.1.0/falcon-operator.yaml'),
      bytes: bytes.byteLength,
      objects: 10,
    });
    expect(readFileSync(staged.file).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses a download whose checksum differs and writes nothing', async () => {
    const fetchStub: typeof fetch = () => Promise.resolve(new Response('kind: Namespace\n'));
    await expect(
      stageOperatorManifest(
        configWith({ version: 'v1.1.0', manifestSha256: sha256Hex(fixture('v1.1.0')) }),
        out,
        fetchStub,
      ),
    ).rejects.toThrow(/SHA-256 is [0-9a-f]{64}, expected/);
    expect(existsSync(join(out, 'operator'))).toBe(false);
  });

  it('takes a local file instead of downloading', async () => {
    const file = new URL('fixtures/operator-v1.0.0.yaml', import.meta.url).pathname;
    const fetchStub: typeof fetch = () => Promise.reject(new Error('no network'));
    const staged = await stageOperatorManifest(
      configWith({ version: 'v1.0.0', manifestSha256: sha256Hex(fixture('v1.0.0')), manifestFile: file }),
      out,
      fetchStub,
    );
    expect(staged.objects).toBe(10);
  });
});

import { rmSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { synthesize } from '../../src/infra/synth.js';
import { dummyBundlesForAllHandlers, tempDir } from './helpers.js';

// Its own file on purpose: CDK prints each deprecation once per process (module state), so this
// must be the first synthesis in its module graph to see every notice.
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const saved = process.env.JSII_DEPRECATED;
afterEach(() => {
  if (saved === undefined) delete process.env.JSII_DEPRECATED;
  else process.env.JSII_DEPRECATED = saved;
  vi.restoreAllMocks();
});

describe('synthesis of every feature', () => {
  it('prints no CDK deprecation warning and uses no deprecated CDK property (the example, all features on)', async () => {
    const config = await loadConfigFile('examples/organization.yaml');
    expect(config.features.eksProtection, 'the example must synthesize the EKS bus policy').toBeDefined();
    const outdir = tempDir('deprecations');
    const lambdaDir = dummyBundlesForAllHandlers();
    dirs.push(outdir, lambdaDir);
    const warned = vi.spyOn(console, 'warn');
    // 'fail' turns every deprecated use into an exception, ours or a library's on our behalf.
    process.env.JSII_DEPRECATED = 'fail';

    synthesize(config, { outdir, lambdaDir });

    expect(process.env.JSII_DEPRECATED, 'the nag pass restores the setting').toBe('fail');
    expect(warned.mock.calls.map((c) => c.join(' ')).filter((m) => m.includes('[WARNING]'))).toEqual([]);
  });
});

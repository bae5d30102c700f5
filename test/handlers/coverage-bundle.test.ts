import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandler, handlerNames } from '../../scripts/bundle-lambdas.mjs';

const run = promisify(execFile);

/**
 * The shipped artefact: bundles `coverage` as `npm run build` does and loads it in a separate plain
 * Node.js process, so a bundling mistake (a missing module, a top-level crash) fails here.
 */
describe('coverage Lambda bundle', () => {
  let outRoot: string;
  let bundle: { file: string; bytes: number };

  beforeAll(async () => {
    outRoot = mkdtempSync(join(tmpdir(), 'falcon-org-bundle-'));
    bundle = await bundleHandler('coverage', outRoot);
  });

  afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

  it('is one of the bundled entry points', () => {
    expect(handlerNames()).toContain('coverage');
    expect(bundle.bytes).toBeGreaterThan(10_000);
    expect(bundle.bytes).toBeLessThan(3_000_000);
  });

  it('loads in plain Node.js and fails a scheduled run naming every missing variable, before any call', async () => {
    const script = `
      const { handler } = await import(${JSON.stringify(bundle.file)});
      const context = {
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:falcon-org-coverage',
        getRemainingTimeInMillis: () => 60000,
      };
      try {
        await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, context);
        console.log('NO ERROR');
      } catch (error) {
        console.log(error.name + ': ' + error.message);
      }
    `;
    // A clean environment: none of the function's variables are set, and no endpoint is reachable.
    const env = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    };
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env,
      timeout: 60_000,
    });
    expect(stdout.trim().split('\n').at(-1)).toBe(
      'CoveragePublishError: invalid function environment: FALCON_ORG_COVERAGE_SETTINGS is not set; FALCON_SECRET_ARN is not set; FALCON_ORG_COVERAGE_BUCKET is not set; FALCON_ORG_COVERAGE_NAMESPACE is not set',
    );
  });
});

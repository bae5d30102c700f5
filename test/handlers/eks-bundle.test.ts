import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandler, handlerNames } from '../../scripts/bundle-lambdas.mjs';
import { CfnCaptureServer } from './cfn-capture-server.js';

const run = promisify(execFile);
// eks-discover carries the S3 client (about 170 KB) to read the coverage report it repairs from
// (issue 15 point 4) and the Service Quotas client (about 30 KB) it paces builds with: 1.63 MB.
const MAX_BUNDLE_BYTES = 1_700_000;
const CONTEXT = `{
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:falcon-org-eks',
  getRemainingTimeInMillis: () => 60000,
}`;

/**
 * The shipped artefacts: eks-discover and eks-event bundled as `npm run build` does, loaded in a
 * separate plain Node.js process with none of their variables set, so a bundling mistake (a missing
 * module, an ESM/CJS mismatch, a top-level crash) fails here.
 */
describe('EKS Lambda bundles', () => {
  let outRoot: string;
  let capture: CfnCaptureServer;
  const bundles: Record<string, { file: string; bytes: number }> = {};

  beforeAll(async () => {
    outRoot = mkdtempSync(join(tmpdir(), 'falcon-org-eks-bundle-'));
    for (const name of ['eks-discover', 'eks-event']) bundles[name] = await bundleHandler(name, outRoot);
    capture = await CfnCaptureServer.start();
  }, 120_000);

  afterAll(async () => {
    await capture.close();
    rmSync(outRoot, { recursive: true, force: true });
  });

  it('are bundled entry points within the size target', () => {
    expect(handlerNames()).toEqual(expect.arrayContaining(['eks-discover', 'eks-event']));
    for (const bundle of Object.values(bundles)) {
      expect(bundle.bytes).toBeGreaterThan(10_000);
      expect(bundle.bytes).toBeLessThan(MAX_BUNDLE_BYTES);
    }
  });

  it('eks-discover loads and answers CloudFormation SUCCESS, naming what is missing, when misconfigured', async () => {
    const event = {
      RequestType: 'Create',
      ResponseURL: capture.url('eks-bundle-1'),
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/falcon-org/1',
      RequestId: 'eks-bundle-1',
      LogicalResourceId: 'EksDiscovery',
      ResourceType: 'Custom::FalconEksDiscovery',
      ResourceProperties: { ServiceToken: 'x' },
    };
    const script = `
      const { handler } = await import(${JSON.stringify(bundles['eks-discover'].file)});
      await handler(${JSON.stringify(event)}, ${CONTEXT});
    `;
    await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
      timeout: 60_000,
    });

    const answer = capture.answerFor('eks-bundle-1').body;
    expect(answer).toMatchObject({ Status: 'SUCCESS', RequestId: 'eks-bundle-1' });
    expect(String(answer.Reason)).toMatch(/discovery could not run .*FALCON_ORG_EKS_SETTINGS is not set/);
  });

  it('eks-event loads and drops a malformed event instead of throwing', async () => {
    const settings = JSON.stringify({
      partition: 'aws',
      homeAccountId: '123456789012',
      homeRegion: 'us-east-1',
      targets: ['r-abcd'],
      excludeAccounts: [],
      regions: ['us-east-1'],
      executionRoleName: 'falcon-org-eks-execution',
      concurrency: 10,
      lockTtlSeconds: 3600,
    });
    const script = `
      const { handler } = await import(${JSON.stringify(bundles['eks-event'].file)});
      const out = await handler({ source: 'aws.eks', detail: {} }, ${CONTEXT});
      console.log('RESULT ' + JSON.stringify(out));
    `;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        FALCON_ORG_EKS_SETTINGS: settings,
        FALCON_ORG_RUNS_TABLE: 'runs',
        FALCON_ORG_DEPLOYER_PROJECT: 'deployer',
      },
      timeout: 60_000,
    });

    const result = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(JSON.parse(result!.slice(7))).toMatchObject({ action: 'dropped' });
    expect(stderr).toMatch(/dropped malformed eks event/);
  });
});

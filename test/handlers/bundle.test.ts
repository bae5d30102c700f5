import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandler, handlerNames } from '../../scripts/bundle-lambdas.mjs';
import { CfnCaptureServer } from './cfn-capture-server.js';

const run = promisify(execFile);
/** The target for the ecr-connect bundle. */
const MAX_BUNDLE_BYTES = 1_500_000;

/**
 * The shipped artefact, not the source: bundles ecr-connect exactly as `npm run build` does, then
 * loads it in a separate plain Node.js process (this machine's Node 20; Lambda runs Node 22) and
 * invokes it with a CloudFormation request, so a bundling mistake (a missing module, an ESM/CJS
 * mismatch, a top-level crash) fails here.
 */
describe('ecr-connect Lambda bundle', () => {
  let outRoot: string;
  let bundle: { file: string; bytes: number };
  let capture: CfnCaptureServer;

  beforeAll(async () => {
    outRoot = mkdtempSync(join(tmpdir(), 'falcon-org-bundle-'));
    bundle = await bundleHandler('ecr-connect', outRoot);
    capture = await CfnCaptureServer.start();
  });

  afterAll(async () => {
    await capture.close();
    rmSync(outRoot, { recursive: true, force: true });
  });

  it('is one of the bundled entry points and stays under the size target', () => {
    expect(handlerNames()).toContain('ecr-connect');
    expect(bundle.bytes).toBeGreaterThan(10_000);
    expect(bundle.bytes).toBeLessThan(MAX_BUNDLE_BYTES);
  });

  it('loads in plain Node.js and answers CloudFormation FAILED, naming what is missing, when misconfigured', async () => {
    const event = {
      RequestType: 'Create',
      ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:falcon-org-ecr-connect',
      ResponseURL: capture.url('bundle-1'),
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/falcon-org-ecr/1',
      RequestId: 'bundle-1',
      LogicalResourceId: 'Connections',
      ResourceType: 'Custom::FalconEcrConnections',
      ResourceProperties: { ServiceToken: 'x', DeploymentId: 'falcon-org', Regions: ['us-east-1'] },
    };
    const script = `
      const { handler } = await import(${JSON.stringify(bundle.file)});
      const context = {
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:falcon-org-ecr-connect',
        getRemainingTimeInMillis: () => 60000,
      };
      await handler(${JSON.stringify(event)}, context);
    `;
    // A clean environment: none of the function's variables are set.
    const env = { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' };
    await run(process.execPath, ['--input-type=module', '-e', script], { env, timeout: 60_000 });

    const answer = capture.answerFor('bundle-1').body;
    expect(answer).toMatchObject({
      Status: 'FAILED',
      RequestId: 'bundle-1',
      LogicalResourceId: 'Connections',
      StackId: event.StackId,
    });
    expect(typeof answer.PhysicalResourceId).toBe('string');
    expect(String(answer.Reason)).toMatch(/FALCON_SECRET_ARN/);
  });
});

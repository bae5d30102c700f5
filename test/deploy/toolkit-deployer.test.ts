import { createServer, type Server } from 'node:http';
import { AbortError } from '@aws-cdk/toolkit-lib';
import * as cdk from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppFactory } from '../../src/deploy/deployer.js';
import { NotConfirmedError, ToolkitFailedError } from '../../src/deploy/errors.js';
import { ProgressIoHost } from '../../src/deploy/io-host.js';
import { createProgress } from '../../src/deploy/progress.js';
import { createScrubber } from '../../src/deploy/secrets.js';
import { ToolkitDeployer, toolkitFailure } from '../../src/deploy/toolkit-deployer.js';
import { listenOnLoopback } from '../services/free-port.js';
import { captureOutput, testConfig } from './helpers.js';

/** A tiny stand-in for src/infra/app.ts with the same contract: root stack + the two NoEcho parameters. */
const standIn: AppFactory = (config, options) => {
  const app = new cdk.App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    autoSynth: false,
    analyticsReporting: false,
  });
  const rootStack = new cdk.Stack(app, 'Root', {
    stackName: config.resourcePrefix,
    env: { region: config.aws.homeRegion },
  });
  const id = new cdk.CfnParameter(rootStack, 'FalconClientId', { noEcho: true });
  const secret = new cdk.CfnParameter(rootStack, 'FalconClientSecret', { noEcho: true });
  new cdk.CfnResource(rootStack, 'Thing', {
    type: 'AWS::SSM::Parameter',
    properties: { Type: 'String', Value: cdk.Fn.join('-', [id.valueAsString, secret.valueAsString]) },
  });
  return { app, rootStack };
};

describe('ToolkitDeployer.describeRoot', () => {
  it('reads the stack name, construct path, region and parameter names from the app', () => {
    const root = new ToolkitDeployer(standIn).describeRoot(testConfig());
    expect(root).toEqual({
      stackName: 'falcon-org',
      hierarchicalId: 'Root',
      region: 'us-east-1',
      parameterNames: ['FalconClientId', 'FalconClientSecret'],
    });
  });
});

describe('ToolkitDeployer.deploy against an endpoint that refuses every call', () => {
  let server: Server;
  const saved: Record<string, string | undefined> = {};
  const vars = [
    'AWS_EC2_METADATA_DISABLED',
    'AWS_ENDPOINT_URL',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_REGION',
    'AWS_PROFILE',
    'AWS_MAX_ATTEMPTS',
  ];

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'text/xml' });
      res.end(
        '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>' +
          '<Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>',
      );
    });
    const url = await listenOnLoopback(server);
    for (const v of vars) saved[v] = process.env[v];
    process.env.AWS_ENDPOINT_URL = url;
    process.env.AWS_ACCESS_KEY_ID = 'AKIAEXAMPLEEXAMPLE00';
    process.env.AWS_SECRET_ACCESS_KEY = 'not-a-real-key';
    process.env.AWS_REGION = 'eu-west-3';
    process.env.AWS_MAX_ATTEMPTS = '1';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    delete process.env.AWS_PROFILE;
  });

  afterAll(async () => {
    for (const v of vars) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('fails with a ToolkitFailedError (exit 1), scrubbed, and restores AWS_REGION', async () => {
    const SECRET = 'MARKER-toolkit-secret-777';
    const output = captureOutput();
    const scrub = createScrubber([SECRET]);
    const built: Parameters<AppFactory>[1][] = [];
    const deployer = new ToolkitDeployer((config, options) => {
      built.push(options);
      return standIn(config, options);
    });
    const config = testConfig();
    const root = deployer.describeRoot(config);
    const io = new ProgressIoHost({
      progress: createProgress(output),
      scrub,
      approveDeploy: () => Promise.resolve(true),
    });
    const error = await deployer
      .deploy({
        config,
        root,
        parameters: { FalconClientId: 'MARKER-id', FalconClientSecret: SECRET },
        scrub,
        ioHost: io,
        appOptions: { credentialsVersionId: 'v-42' },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(ToolkitFailedError);
    expect((error as Error).message).toMatch(/^deploy of the root stack failed: /);
    expect((error as Error).message).not.toContain(SECRET);
    expect(output.all()).not.toContain(SECRET);
    expect(process.env.AWS_REGION).toBe('eu-west-3');
    // describeRoot builds without deploy-time options; the deploy's synthesis gets them.
    expect(built[0]).toEqual({});
    expect(built.slice(1)).toContainEqual(expect.objectContaining({ credentialsVersionId: 'v-42' }));
  });
});

describe('toolkitFailure', () => {
  const scrub = createScrubber(['MARKER-secret-55']);

  it('scrubs the message and drops the raw cause', () => {
    const error = toolkitFailure('deploy', new Error('Parameter value MARKER-secret-55 is invalid'), scrub);
    expect(error).toBeInstanceOf(ToolkitFailedError);
    expect(error.message).toBe('deploy of the root stack failed: Parameter value *** is invalid');
    expect(error.cause).toBeUndefined();
  });

  it('turns a toolkit abort into NotConfirmedError (exit 2) and lets our own input errors through', () => {
    expect(
      toolkitFailure('deploy', new AbortError('DeployAborted', 'Deployment cancelled'), scrub),
    ).toBeInstanceOf(NotConfirmedError);
    const mine = new NotConfirmedError('no');
    expect(toolkitFailure('destroy', mine, scrub)).toBe(mine);
  });
});

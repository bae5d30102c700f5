import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleDeployer } from '../../scripts/bundle-lambdas.mjs';
import { PROJECT_ENV, RUN_ENV } from '../../src/eks/run-contract.js';
import { settingsFor } from './harness.js';

const run = promisify(execFile);

interface Finished {
  code: number;
  lines: Record<string, unknown>[];
}

/** Runs the bundle as CodeBuild does: `node index.mjs`, only environment variables as input. */
async function runBundle(file: string, env: Record<string, string>): Promise<Finished> {
  const base = { PATH: process.env['PATH'] ?? '', HOME: tmpdir() };
  try {
    const { stdout } = await run(process.execPath, [file], { env: { ...base, ...env }, timeout: 60_000 });
    return { code: 0, lines: parse(stdout) };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: e.code ?? -1, lines: parse(e.stdout ?? '') };
  }
}

function parse(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('deployer bundle (dist/deployer/index.mjs)', () => {
  let outDir: string;
  let bundle: { file: string; bytes: number };

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'falcon-org-deployer-'));
    bundle = await bundleDeployer(outDir);
  }, 120_000);
  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
  });

  it('loads in plain Node and names every missing variable, exit code 2', async () => {
    expect(bundle.bytes).toBeGreaterThan(50_000);
    const finished = await runBundle(bundle.file, {});
    expect(finished.code).toBe(2);
    const error = String(finished.lines[0]?.['error']);
    for (const name of [
      RUN_ENV.accountId,
      RUN_ENV.region,
      RUN_ENV.cluster,
      RUN_ENV.executionRoleArn,
      PROJECT_ENV.clientId,
      PROJECT_ENV.settings,
    ]) {
      expect(error).toContain(name);
    }
  });

  it('with a complete environment runs once and reports one JSON result (exit 1 when the manifest is unreachable)', async () => {
    const finished = await runBundle(bundle.file, {
      [RUN_ENV.accountId]: '111122223333',
      [RUN_ENV.region]: 'eu-west-1',
      [RUN_ENV.cluster]: 'prod',
      [RUN_ENV.compute]: 'mixed',
      [RUN_ENV.executionRoleArn]: 'arn:aws:iam::111122223333:role/falcon-org-eks-execution',
      [RUN_ENV.runId]: 'bundle-run',
      [PROJECT_ENV.settings]: JSON.stringify(settingsFor()),
      [PROJECT_ENV.clientId]: 'id',
      [PROJECT_ENV.clientSecret]: 'bundle-secret-value',
      AWS_ACCESS_KEY_ID: 'AKIDBUNDLE',
      AWS_SECRET_ACCESS_KEY: 'bundle',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
    });
    expect(finished.code).toBe(1);
    const last = finished.lines.at(-1) as { message: string; result: Record<string, unknown> };
    expect(last.message).toBe('run-result');
    // The handlers' line shape: level, message, timestamp, service, then the run's own keys.
    expect(last).toMatchObject({
      level: 'ERROR',
      service: 'falcon-org-eks-deployer',
      runId: 'bundle-run',
      cluster: 'prod',
    });
    expect(Object.keys(last).slice(0, 4)).toEqual(['level', 'message', 'timestamp', 'service']);
    expect(new Date(String((last as { timestamp?: unknown }).timestamp)).toISOString()).toBe(
      (last as { timestamp?: unknown }).timestamp,
    );
    for (const line of finished.lines) {
      expect(line).toMatchObject({
        service: 'falcon-org-eks-deployer',
        runId: 'bundle-run',
        cluster: 'prod',
      });
      expect(['INFO', 'WARN', 'ERROR']).toContain(line.level);
    }
    expect(last.result).toMatchObject({
      runId: 'bundle-run',
      cluster: 'prod',
      outcome: 'failed',
      mode: 'install',
    });
    expect(String(last.result['reason'])).toMatch(/cannot read the operator manifest s3:\/\/artifacts\//);
    expect(JSON.stringify(finished.lines)).not.toContain('bundle-secret-value');
  });
});

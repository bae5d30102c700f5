import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/infra/app.js';
import { operatorManifestKey } from '../../src/infra/artifact-bucket.js';
import { MissingOperatorManifestError } from '../../src/infra/errors.js';
import { dummyBundlesForAllHandlers, tempDir, testConfig } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const MANIFEST = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: falcon-operator\n';
const config = testConfig({
  features: { ssmDistributor: { enabled: false }, eksProtection: { enabled: true } },
});
const version = config.features.eksProtection.deployer.operator.version;
const lambdaDir = dummyBundlesForAllHandlers();
dirs.push(join(lambdaDir, '..'));

/** A staging directory laid out like `stageManifestForBuild` writes it. */
function staged(forVersion: string): string {
  const dir = tempDir('staged-manifest');
  dirs.push(dir);
  mkdirSync(join(dir, 'operator', forVersion), { recursive: true });
  writeFileSync(join(dir, 'operator', forVersion, 'falcon-operator.yaml'), MANIFEST);
  return dir;
}

type Deployment = { Properties: Record<string, unknown> };

function manifestDeployments(template: Template): Deployment[] {
  return Object.values(
    template.findResources('Custom::CDKBucketDeployment') as Record<string, Deployment>,
  ).filter((r) => String(r.Properties['DestinationBucketKeyPrefix']).startsWith('deployer/operator/'));
}

describe('the artifact bucket uploads the staged operator manifest', () => {
  it('to exactly operatorManifestKey(version), the key the deployer settings name', () => {
    const outdir = tempDir('manifest-upload');
    dirs.push(outdir);
    const { app, rootStack } = buildApp(config, { outdir, lambdaDir, operatorManifestDir: staged(version) });
    const template = Template.fromStack(rootStack);
    const [deployment, ...others] = manifestDeployments(template);
    expect(others).toEqual([]);
    const props = deployment?.Properties ?? {};
    // Extracted (no Extract: false), so each file of the asset lands at prefix + its name.
    expect(props['Extract']).toBeUndefined();
    const keys = props['SourceObjectKeys'] as string[];
    expect(keys).toHaveLength(1);
    app.synth();
    // The staged asset directory (CDK may suffix it, e.g. `.0`); its zip is the deployment's source.
    const hash = String(keys[0]).replace(/\.zip$/, '');
    const asset = readdirSync(outdir).find((f) => f.startsWith(`asset.${hash}`) && !f.endsWith('.zip'));
    const assetDir = join(outdir, asset ?? `asset.${hash}`);
    expect(readdirSync(assetDir)).toEqual(['falcon-operator.yaml']);
    expect(readFileSync(join(assetDir, 'falcon-operator.yaml'), 'utf8')).toBe(MANIFEST);
    expect(`${String(props['DestinationBucketKeyPrefix'])}falcon-operator.yaml`).toBe(
      operatorManifestKey(version),
    );
    expect(operatorManifestKey(version)).toBe(`deployer/operator/${version}/falcon-operator.yaml`);
    // Into the artifact bucket, which the deployer's settings point at with the same key.
    const bucketRef = JSON.stringify(props['DestinationBucketName']);
    expect(bucketRef).toMatch(/FalconOrganizationArtifactsBucket/);
    expect(JSON.stringify(template.toJSON())).toContain(
      `\\"manifestKey\\":\\"${operatorManifestKey(version)}\\"`,
    );
  }, 60_000);

  it('uploads no manifest when none was staged (synth without a local copy)', () => {
    const outdir = tempDir('manifest-none');
    dirs.push(outdir);
    const { rootStack } = buildApp(config, { outdir, lambdaDir });
    expect(manifestDeployments(Template.fromStack(rootStack))).toEqual([]);
  }, 60_000);

  it('refuses a staging directory that lacks the pinned version', () => {
    const outdir = tempDir('manifest-wrong');
    dirs.push(outdir);
    expect(() => buildApp(config, { outdir, lambdaDir, operatorManifestDir: staged('v0.0.1') })).toThrow(
      MissingOperatorManifestError,
    );
  }, 60_000);
});

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DeployOutcome, DeployRequest } from '../../src/deploy/deployer.js';
import { buildApp } from '../../src/infra/app.js';
import { dummyLambdaDir, tempDir } from '../infra/helpers.js';
import { RecordingDeployer } from './helpers.js';

/** What one deploy handed CloudFormation: the root template and each StackSet's member template. */
export interface Synthesized {
  /** The root template as JSON text: what CloudFormation compares to decide whether anything changes. */
  readonly root: string;
  /** Member templates by StackSet name. */
  readonly members: Readonly<Record<string, Record<string, unknown>>>;
}

/**
 * A deployer that synthesizes the real app with exactly what the command passes (configuration and
 * deploy-time options), keeps the templates, and answers like a successful toolkit deploy.
 */
export class SynthesizingDeployer extends RecordingDeployer {
  readonly synthesized: Synthesized[] = [];
  private readonly lambdaDir = dummyLambdaDir('ecr-connect');
  private readonly dirs: string[] = [this.lambdaDir];

  override async deploy(request: DeployRequest): Promise<DeployOutcome> {
    const outdir = tempDir('synthesizing-deployer');
    this.dirs.push(outdir);
    const { app, rootStack } = buildApp(request.config, {
      outdir,
      lambdaDir: this.lambdaDir,
      ...request.appOptions,
    });
    const root = app.synth().getStackArtifact(rootStack.artifactId).template as {
      Resources: Record<string, { Type: string; Properties: { StackSetName?: string } }>;
    };
    const members: Record<string, Record<string, unknown>> = {};
    for (const r of Object.values(root.Resources)) {
      const name = r.Properties.StackSetName;
      if (r.Type !== 'AWS::CloudFormation::StackSet' || !name) continue;
      // The management account's self-managed twin (`<name>-management`) deploys its StackSet's template.
      const file = join(outdir, `${name}.stackset.template.json`);
      const twinOf = join(outdir, `${name.replace(/-management$/, '')}.stackset.template.json`);
      members[name] = JSON.parse(readFileSync(existsSync(file) ? file : twinOf, 'utf8')) as Record<
        string,
        unknown
      >;
    }
    this.synthesized.push({ root: JSON.stringify(root), members });
    return super.deploy(request);
  }

  cleanUp(): void {
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

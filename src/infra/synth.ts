import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SynthesisMessageLevel } from 'aws-cdk-lib/cx-api';
import type { ResolvedConfig } from '../config/load.js';
import { buildApp } from './app.js';
import { SynthesisError } from './errors.js';

export interface SynthOptions {
  readonly outdir: string;
  readonly lambdaDir?: string;
  /** Synthesize the pre-delete template of `destroy --purge` (see `FeatureContext.purgeOnDelete`). @default false */
  readonly purgeOnDelete?: boolean;
  /** Where the checked operator manifest was staged (`stageManifestForBuild`). @default - none */
  readonly operatorManifestDir?: string;
}

export interface SynthResult {
  readonly outdir: string;
  readonly rootStackName: string;
  /** Root template file name inside `outdir`. */
  readonly rootTemplateFile: string;
  /** Member template file names inside `outdir`, one per StackSet. */
  readonly stackSetTemplateFiles: readonly string[];
  /** Staged asset directories and files inside `outdir` (Lambda code and CDK handlers). */
  readonly assets: readonly string[];
  readonly warnings: readonly string[];
}

const STACKSET_SUFFIX = '.stackset.template.json';

/**
 * Synthesizes the whole app into `outdir`: the root template, one template per StackSet and the
 * staged assets. Needs no AWS credentials. Throws `SynthesisError` on cdk-nag or CDK errors.
 */
export function synthesize(config: ResolvedConfig, options: SynthOptions): SynthResult {
  const outdir = resolve(options.outdir);
  removeStaleStackSetTemplates(outdir);
  const { app, rootStack } = buildApp(config, {
    outdir,
    ...(options.lambdaDir ? { lambdaDir: options.lambdaDir } : {}),
    ...(options.purgeOnDelete ? { purgeOnDelete: true } : {}),
    ...(options.operatorManifestDir ? { operatorManifestDir: options.operatorManifestDir } : {}),
  });
  let assembly;
  try {
    assembly = app.synth();
  } catch (error) {
    throw new SynthesisError([error instanceof Error ? error.message : String(error)], { cause: error });
  }
  const warnings: string[] = [];
  const errors: string[] = [];
  for (const stack of assembly.stacks) {
    for (const message of stack.messages) {
      const text = `${message.id}: ${typeof message.entry.data === 'string' ? message.entry.data : JSON.stringify(message.entry.data)}`;
      if (message.level === SynthesisMessageLevel.ERROR) errors.push(text);
      else if (message.level === SynthesisMessageLevel.WARNING) warnings.push(text);
    }
  }
  if (errors.length > 0) throw new SynthesisError(errors);
  const files = readdirSync(outdir);
  return {
    outdir,
    rootStackName: rootStack.stackName,
    rootTemplateFile: rootStack.templateFile,
    stackSetTemplateFiles: files.filter((f) => f.endsWith(STACKSET_SUFFIX)).sort(),
    assets: files.filter((f) => f.startsWith('asset.')).sort(),
    warnings,
  };
}

function removeStaleStackSetTemplates(outdir: string): void {
  if (!existsSync(outdir)) return;
  for (const file of readdirSync(outdir)) {
    if (file.endsWith(STACKSET_SUFFIX)) rmSync(join(outdir, file), { force: true });
  }
}

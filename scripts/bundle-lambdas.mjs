// Bundles every Lambda entry point in src/handlers into dist/lambda/<name>/index.mjs exporting `handler`,
// and the EKS deployer (src/cluster/entry.ts) into dist/deployer/index.mjs.
// Target: the Lambda Node.js 22 runtime; the output also loads on Node.js 20 (syntax target node20).
import { build } from 'esbuild';
import { readdirSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HANDLERS_DIR = 'src/handlers';

/** The entry points: every `src/handlers/*.ts` file (shared code lives in subfolders). */
export function handlerNames(handlersDir = HANDLERS_DIR) {
  return readdirSync(handlersDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => basename(f, '.ts'));
}

/** Bundles one handler into `<outRoot>/<name>/index.mjs` and returns the file's path and size. */
export async function bundleHandler(name, outRoot, handlersDir = HANDLERS_DIR) {
  return bundleEntry(join(handlersDir, `${name}.ts`), join(outRoot, name));
}

/** Bundles one entry file into `<outDir>/index.mjs` (Node.js 22 runtime, syntax target node20) and returns its path and size. */
async function bundleEntry(entryPoint, outDir) {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'index.mjs');
  await build({
    entryPoints: [entryPoint],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    // Some CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);" },
    logLevel: 'warning',
  });
  return { file: outfile, bytes: statSync(outfile).size };
}

/** The EKS deployer's entry point; bundled to `<outDir>/index.mjs` and run by CodeBuild with `node index.mjs`. */
export const DEPLOYER_ENTRY = 'src/cluster/entry.ts';

/** Bundles the EKS deployer into `<outDir>/index.mjs` (Node.js 20, top-level await) and returns its path and size. */
export async function bundleDeployer(outDir = 'dist/deployer') {
  return bundleEntry(DEPLOYER_ENTRY, outDir);
}

async function main() {
  const outRoot = 'dist/lambda';
  rmSync(outRoot, { recursive: true, force: true });
  const names = handlerNames();
  for (const name of names) {
    const { bytes } = await bundleHandler(name, outRoot);
    console.log(`bundled ${name}: ${(bytes / 1024).toFixed(0)} KiB`);
  }
  if (names.length === 0) console.log('no Lambda handlers to bundle');
  rmSync('dist/deployer', { recursive: true, force: true });
  const deployer = await bundleDeployer('dist/deployer');
  console.log(`bundled deployer: ${(deployer.bytes / 1024).toFixed(0)} KiB`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();

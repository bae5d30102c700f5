// Bundles every Lambda entry point in src/handlers into dist/lambda/<name>/index.mjs exporting `handler`.
// Target: the Lambda Node.js 22 runtime; the output also loads on Node.js 20 (syntax target node20).
import { build } from 'esbuild';
import { readdirSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';

const handlersDir = 'src/handlers';
const outRoot = 'dist/lambda';
const entries = readdirSync(handlersDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
rmSync(outRoot, { recursive: true, force: true });
for (const file of entries) {
  const name = basename(file, '.ts');
  const outdir = join(outRoot, name);
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [join(handlersDir, file)],
    outfile: join(outdir, 'index.mjs'),
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
  const size = statSync(join(outdir, 'index.mjs')).size;
  console.log(`bundled ${name}: ${(size / 1024).toFixed(0)} KiB`);
}
if (entries.length === 0) console.log('no Lambda handlers to bundle');

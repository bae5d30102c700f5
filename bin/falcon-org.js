#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/lib by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/lib/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('falcon-org: the CLI is not built yet; run "npm run build" first.\n');
  process.exit(1);
}
const { run } = await import(main);
process.exitCode = await run(process.argv.slice(2));

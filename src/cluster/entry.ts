/* The bundled deployer's entry point (dist/deployer/index.mjs): `node index.mjs` in CodeBuild. */
import { main } from './main.js';

process.exitCode = await main(process.env, (line) => process.stdout.write(`${line}\n`));

// Runs the CLI from source, for tests that need it as a separate process (e.g. to kill it mid-scan).
import { run } from '../../src/cli/main.js';

process.exitCode = await run(process.argv.slice(2));

/*
 * Times how long the built CLI takes to start and print help, per command (median of N runs, each a
 * fresh `node bin/falcon-org.js … --help` process). Commands load their heavy modules (aws-cdk-lib,
 * cdk-nag, toolkit-lib, the AWS SDK clients, pg) only when they run, so help and the light commands
 * should not pay for them.
 * Run: npm run build && npx tsx bench/cli-startup.ts [runs]
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const runs = Number(process.argv[2] ?? '5');
const commands = [[], ['validate'], ['catalog'], ['catalog', 'scan'], ['plan'], ['deploy']];

for (const command of commands) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    execFileSync(process.execPath, ['bin/falcon-org.js', ...command, '--help'], { stdio: 'ignore' });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  console.log(`falcon-org ${[...command, '--help'].join(' ')}: median ${Math.round(median)} ms of ${runs}`);
}

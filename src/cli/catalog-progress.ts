import cliProgress from 'cli-progress';
import type { ScanProgress } from '../catalog/scan.js';
import type { Output } from '../shared/output.js';

/** A progress bar on stderr while a scan runs, only when stderr is a terminal and output is not JSON. */
export function scanProgress(
  output: Output,
  enabled: boolean,
): { update(p: ScanProgress): void; stop(): void } {
  if (!enabled || !output.interactive) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: 'repositories {bar} {value}/{total} {repository}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      if (!started) {
        bar.start(p.total, p.done, { repository: '' });
        started = true;
      }
      bar.update(p.done, { repository: p.repository ?? '' });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

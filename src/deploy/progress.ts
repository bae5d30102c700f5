import cliProgress from 'cli-progress';
import type { Output } from '../shared/output.js';

/** Where deploy/destroy report progress; every text handed in is already scrubbed of secrets. */
export interface Progress {
  /** A line worth keeping (phase changes, warnings, failures). */
  line(text: string): void;
  /** Resource-level progress of the stack being deployed or destroyed. */
  step(completed: number, total: number | undefined, text: string): void;
  /** Ends any live display; further lines are plain. */
  stop(): void;
}

/**
 * Progress on stderr: plain lines when stderr is not a terminal (CI logs, pipes), a live bar for
 * resource progress when it is. `--json` keeps stdout for the one final result.
 */
export function createProgress(output: Output, stream: NodeJS.WritableStream = process.stderr): Progress {
  return output.interactive ? new BarProgress(output, stream) : new LineProgress(output);
}

class LineProgress implements Progress {
  private lastText = '';

  constructor(private readonly output: Output) {}

  line(text: string): void {
    this.output.err(text);
  }

  step(completed: number, total: number | undefined, text: string): void {
    // Only finished or failed resources make a line; IN_PROGRESS chatter is left out of logs.
    if (!/(_COMPLETE|_FAILED|_SKIPPED)\b/.test(text) || text === this.lastText) return;
    this.lastText = text;
    this.output.err(`  [${completed}${total === undefined ? '' : `/${total}`}] ${text}`);
  }

  stop(): void {}
}

class BarProgress implements Progress {
  private bar: cliProgress.SingleBar | undefined;

  constructor(
    private readonly output: Output,
    private readonly stream: NodeJS.WritableStream,
  ) {}

  line(text: string): void {
    this.stop();
    this.output.err(text);
  }

  step(completed: number, total: number | undefined, text: string): void {
    if (/_FAILED\b/.test(text)) {
      this.line(`  ${text}`);
      return;
    }
    const max = Math.max(total ?? 0, completed, 1);
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format: '  {bar} {value}/{total} {text}',
          hideCursor: true,
          clearOnComplete: true,
          barsize: 24,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(max, completed, { text });
      return;
    }
    this.bar.setTotal(max);
    this.bar.update(completed, { text: text.slice(0, 80) });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

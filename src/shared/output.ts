/** Where commands write: injectable so tests can capture output. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal (progress bars are shown only then). */
  readonly interactive: boolean;
  /** Resolves once what `out` was given has been taken by stdout (for long streamed output). */
  drain?(): Promise<void>;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  interactive: Boolean(process.stderr.isTTY),
  drain: () =>
    process.stdout.writableNeedDrain
      ? new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()))
      : Promise.resolve(),
};

export function printJson(output: Output, value: unknown): void {
  output.out(JSON.stringify(value, null, 2));
}

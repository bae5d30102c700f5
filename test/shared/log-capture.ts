import { vi } from 'vitest';

/** What the code under test logged, line by line (restored by `vi.restoreAllMocks()`). */
export interface LogCapture {
  /** Every line, in order. */
  readonly lines: string[];
  /** The lines that are JSON objects, parsed. */
  records(): Record<string, unknown>[];
  /** All lines joined, for "never contains" checks. */
  text(): string;
}

/**
 * Captures and silences what the code under test logs. The handlers log through Powertools Logger,
 * which writes with its own `Console` on `process.stdout` / `process.stderr` (not the global console);
 * other code uses `console.log` / `warn` / `error`. Both are caught here, so tests see one stream.
 */
export function captureLogs(): LogCapture {
  const lines: string[] = [];
  const push = (text: string): void => {
    for (const line of text.split('\n')) if (line !== '') lines.push(line);
  };
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return true;
    });
  }
  for (const level of ['log', 'warn', 'error'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => push(args.map(String).join(' ')));
  }
  return {
    lines,
    records: () =>
      lines.flatMap((line): Record<string, unknown>[] => {
        try {
          const value: unknown = JSON.parse(line);
          return typeof value === 'object' && value !== null && !Array.isArray(value)
            ? [value as Record<string, unknown>]
            : [];
        } catch {
          return [];
        }
      }),
    text: () => lines.join('\n'),
  };
}

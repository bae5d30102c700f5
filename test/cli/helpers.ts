import type { Output } from '../../src/shared/output.js';

/** An Output that keeps what a command writes, for assertions. */
export function capture(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, interactive: false, out: (t) => stdout.push(t), err: (t) => stderr.push(t) };
}

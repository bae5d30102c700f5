import { createInterface } from 'node:readline/promises';
import type { Confirm } from './io-host.js';

/**
 * A yes/no question on the terminal, or undefined when stdin or stderr is not a terminal (CI,
 * pipes): then nobody can answer and commands need --yes.
 */
export function terminalConfirm(
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): Confirm | undefined {
  if (!input.isTTY || !output.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input, output });
    try {
      const answer = await rl.question(question);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}

import { ConfigError, parseConfigText, type ConfigProblem } from '../../src/config/index.js';

/** The problems a configuration text is rejected with; throws if it is accepted. */
export function problemsIn(text: string): ConfigProblem[] {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

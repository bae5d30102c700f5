/** One problem with the configuration: where it is, what was expected and what was given. */
export interface ConfigProblem {
  readonly path: string;
  readonly expected: string;
  readonly given?: string;
}

/** Base class for errors a user can fix by changing their input; the CLI exits 2 on these. */
export class UserInputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UserInputError';
  }
}

/** Every problem found in a configuration, reported at once. */
export class ConfigError extends UserInputError {
  readonly problems: readonly ConfigProblem[];

  constructor(source: string, problems: readonly ConfigProblem[], options?: ErrorOptions) {
    const lines = problems.map((p) => `  - ${formatProblem(p)}`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${source}: ${count}\n${lines.join('\n')}`, options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.path === '' ? '(top level)' : p.path;
  return p.given === undefined ? `${where}: ${p.expected}` : `${where}: ${p.expected}, got ${p.given}`;
}

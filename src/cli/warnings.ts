/**
 * Process warnings, each shown at most once per command. The AWS SDK for JavaScript v3 warns about
 * the Node.js version with `process.emitWarning` from every SDK copy and client that gets to it
 * first (its "already warned" flag is per module instance: the ESM and CommonJS builds, and each
 * bundled copy, keep their own), so one command that creates several clients could print the same
 * paragraph several times. Warnings are told apart by type, code and first line.
 */
export function showEachWarningOnce(target: Pick<NodeJS.Process, 'emitWarning'> = process): () => void {
  const original = target.emitWarning;
  const seen = new Set<string>();
  const once = (warning: string | Error, ...rest: unknown[]): void => {
    const key = warningKey(warning, rest[0], rest[1]);
    if (seen.has(key)) return;
    seen.add(key);
    Reflect.apply(original, target, [warning, ...rest]);
  };
  target.emitWarning = once;
  return () => {
    target.emitWarning = original;
  };
}

function warningKey(warning: string | Error, typeOrOptions: unknown, code: unknown): string {
  const message = typeof warning === 'string' ? warning : `${warning.name}: ${warning.message}`;
  let type = typeof warning === 'string' ? 'Warning' : warning.name;
  let warningCode = '';
  if (typeof typeOrOptions === 'string') {
    type = typeOrOptions;
    if (typeof code === 'string') warningCode = code;
  } else if (typeof typeOrOptions === 'object' && typeOrOptions !== null) {
    const options = typeOrOptions as { type?: unknown; code?: unknown };
    if (typeof options.type === 'string') type = options.type;
    if (typeof options.code === 'string') warningCode = options.code;
  }
  if (warningCode !== '') return `${type}|${warningCode}`;
  return `${type}|${message.split('\n', 1)[0] ?? ''}`;
}

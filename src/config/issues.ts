import { z } from 'zod';
import type { ConfigProblem } from './errors.js';
import { configSchema } from './schema.js';

/*
 * Turns zod's issues into problems that name the field, what was expected, what was given and,
 * where zod's own wording would not say it, how to fix it. The schema's own messages already start
 * with "expected"; zod's built-in ones ("Invalid input: expected string, received number", "Too big:
 * expected number to be <=100") are rewritten here.
 */

/** One problem for one zod issue, with the path joined by dots. */
export function problemFromIssue(issue: z.core.$ZodIssue): ConfigProblem {
  const path = issue.path.map(String).join('.');
  switch (issue.code) {
    case 'unrecognized_keys':
      return {
        path,
        expected: `expected only known settings; ${issue.keys.map((k) => unknownKeyFix(issue.path, k)).join('; ')}`,
        given: `unknown ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
      };
    case 'invalid_key': {
      // A record key failed its own check: report that check's message for the key.
      const inner = issue.issues[0];
      return {
        path,
        expected: inner ? expectedOf(inner) : 'expected a valid key',
        given: describeGiven(issue.input),
      };
    }
    default:
      return { path, expected: expectedOf(issue), given: describeGiven(issue.input) };
  }
}

function expectedOf(issue: z.core.$ZodIssue): string {
  if (issue.message.startsWith('expected')) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${article(issue.expected)} ${issue.expected}`;
    case 'too_big':
      return `expected ${bound(issue.origin, 'at most', issue.maximum)}`;
    case 'too_small':
      return `expected ${bound(issue.origin, 'at least', issue.minimum)}`;
    default:
      return `expected ${issue.message.replace(/^Invalid input: expected /i, '').replace(/^Invalid input/i, 'a valid value')}`;
  }
}

function bound(origin: string, relation: string, limit: number | bigint): string {
  if (origin === 'array' || origin === 'set') return `${relation} ${limit} item${limit === 1 ? '' : 's'}`;
  if (origin === 'string') return `${relation} ${limit} character${limit === 1 ? '' : 's'}`;
  const kind = origin === 'int' ? 'a whole number' : 'a number';
  return `${kind} ${relation} ${limit}`;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

export function describeGiven(input: unknown): string {
  if (input === undefined) return 'nothing';
  const text = JSON.stringify(input);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** "remove "x" or rename it to "y"" when a known setting at that place is spelled alike. */
function unknownKeyFix(path: readonly PropertyKey[], key: string): string {
  const near = knownKeysAt(path).find((known) => alike(known, key));
  return near === undefined ? `remove "${key}"` : `rename "${key}" to "${near}" or remove it`;
}

/** The settings the schema knows at a path (empty where it cannot tell). */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.core.$ZodType | undefined = configSchema;
  for (const segment of path) {
    const shape: Readonly<Record<string, z.core.$ZodType>> = unwrapObject(schema)?.shape ?? {};
    schema = shape[String(segment)];
  }
  return Object.keys(unwrapObject(schema)?.shape ?? {});
}

function unwrapObject(schema: z.core.$ZodType | undefined): z.ZodObject | undefined {
  let current = schema;
  while (current && !(current instanceof z.ZodObject)) {
    const inner = (current._zod.def as { innerType?: z.core.$ZodType }).innerType;
    if (!inner) return undefined;
    current = inner;
  }
  return current;
}

/** Same letters ignoring case, or at most two edits apart. */
function alike(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  return editDistance(a.toLowerCase(), b.toLowerCase()) <= 2;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

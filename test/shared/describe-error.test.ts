import { describe, expect, it } from 'vitest';
import { capText, describeError, DESCRIPTION_LIMIT } from '../../src/shared/describe-error.js';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

describe('describeError', () => {
  it('prefixes a service error code, not a class name, and never twice', () => {
    expect(describeError(named('AccessDenied', 'not allowed'))).toBe('AccessDenied: not allowed');
    expect(describeError(named('ThrottlingException', 'Rate exceeded'))).toBe(
      'ThrottlingException: Rate exceeded',
    );
    expect(describeError(named('DeadlineError', 'x: not done after 5 s'))).toBe('x: not done after 5 s');
    expect(describeError(new TypeError('bad'))).toBe('bad');
    expect(describeError(named('AccessDenied', 'AccessDenied: not allowed'))).toBe(
      'AccessDenied: not allowed',
    );
    expect(describeError('plain text')).toBe('plain text');
    expect(describeError(named('Empty', ''))).toBe('Empty');
  });

  it('puts every line of a message on one line instead of keeping only the first', () => {
    expect(describeError(new Error('first problem\n  second problem\n\nthird problem'))).toBe(
      'first problem second problem third problem',
    );
  });

  it('keeps every problem of a long list and caps only the whole text, keeping its beginning', () => {
    const problems = Array.from({ length: 25 }, (_, i) => `VARIABLE_${i} is not set`);
    const text = describeError(new Error(`deployer environment: ${problems.join('; ')}`));
    expect(text.length).toBeGreaterThan(500);
    for (const p of problems) expect(text).toContain(p);

    const huge = describeError(new Error(`first; ${'x'.repeat(DESCRIPTION_LIMIT * 2)}`));
    expect(huge).toHaveLength(DESCRIPTION_LIMIT);
    expect(huge.startsWith('first; ')).toBe(true);
    expect(huge.endsWith('…')).toBe(true);
    expect(capText('short', 10)).toBe('short');
    expect(capText('0123456789abc', 10)).toBe('012345678…');
  });
});

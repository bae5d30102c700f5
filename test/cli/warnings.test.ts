import { emitWarningIfUnsupportedVersion, state } from '@aws-sdk/core/client';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { showEachWarningOnce } from '../../src/cli/warnings.js';

/** Counts the warnings Node delivers (it prints each one it delivers) while `work` runs. */
async function delivered(work: () => void): Promise<string[]> {
  const seen: string[] = [];
  const listener = (warning: Error) => seen.push(warning.message.split('\n', 1)[0] ?? '');
  process.on('warning', listener);
  try {
    work();
    // Node delivers warnings on the next tick.
    await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    process.off('warning', listener);
  }
  return seen.filter((m) => m.includes('AWS SDK for JavaScript') || m.startsWith('test-'));
}

/** What two SDK copies (ESM and CommonJS builds, or a bundled one) do: each warns once. */
function twoSdkCopiesWarn(): void {
  for (let copy = 0; copy < 2; copy++) {
    state.warningEmitted = false;
    emitWarningIfUnsupportedVersion('v20.19.0');
  }
}

/** The function currently installed as process.emitWarning (compared by identity only). */
const installed = (): unknown => Reflect.get(process, 'emitWarning');

const saved = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
afterEach(() => {
  state.warningEmitted = true;
  if (saved === undefined) delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  else process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = saved;
});

describe('showEachWarningOnce', () => {
  it("shows the AWS SDK's Node.js version warning once, however many SDK copies emit it", async () => {
    delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    // Without it: once per copy.
    expect(await delivered(twoSdkCopiesWarn)).toHaveLength(2);

    const restore = showEachWarningOnce();
    try {
      expect(await delivered(twoSdkCopiesWarn)).toEqual([
        'NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)',
      ]);
    } finally {
      restore();
    }
  });

  it('keeps different warnings, tells warnings with a code apart by code, and restores emitWarning', async () => {
    const original = installed();
    const restore = showEachWarningOnce();
    const seen = await delivered(() => {
      process.emitWarning('test-one: first');
      process.emitWarning('test-two: second');
      process.emitWarning('test-one: first');
      process.emitWarning('test-coded: a', 'DeprecationWarning', 'DEP_TEST_1');
      process.emitWarning('test-coded: other text, same code', 'DeprecationWarning', 'DEP_TEST_1');
      process.emitWarning('test-coded: b', { type: 'DeprecationWarning', code: 'DEP_TEST_2' });
    });
    restore();
    expect(seen).toEqual(['test-one: first', 'test-two: second', 'test-coded: a', 'test-coded: b']);
    expect(installed()).toBe(original);
  });

  it('is in force while a CLI command runs and removed afterwards', async () => {
    const original = installed();
    let during: unknown;
    const output = {
      interactive: false,
      out: () => {
        during = installed();
      },
      err: () => undefined,
    };
    expect(await run(['--help'], output)).toBe(0);
    expect(during).toBeDefined();
    expect(during).not.toBe(original);
    expect(installed()).toBe(original);
  });
});

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/deploy/progress.js';
import { captureOutput } from './helpers.js';

function fakeTerminal() {
  const stream = Object.assign(new PassThrough(), {
    isTTY: true,
    columns: 100,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  });
  let written = '';
  stream.on('data', (chunk) => (written += String(chunk)));
  return { stream, written: () => written };
}

describe('createProgress', () => {
  it('draws a bar on a terminal and keeps failures as lines', () => {
    const term = fakeTerminal();
    const output = { ...captureOutput(), interactive: true };
    const progress = createProgress(output, term.stream);
    progress.line('Deploying stack falcon-org');
    progress.step(1, 4, 'CREATE_COMPLETE AWS::S3::Bucket Artifacts');
    progress.step(2, 4, 'CREATE_FAILED AWS::IAM::Role Role (denied)');
    progress.step(3, 4, 'CREATE_COMPLETE AWS::Lambda::Function Fn');
    progress.stop();
    expect(output.stderr).toEqual([
      'Deploying stack falcon-org',
      '  CREATE_FAILED AWS::IAM::Role Role (denied)',
    ]);
    expect(term.written()).toContain('1/4 CREATE_COMPLETE AWS::S3::Bucket Artifacts');
    expect(term.written()).toContain('3/4 CREATE_COMPLETE AWS::Lambda::Function Fn');
  });

  it('writes plain lines for finished resources only when stderr is not a terminal', () => {
    const term = fakeTerminal();
    const output = captureOutput();
    const progress = createProgress(output, term.stream);
    progress.step(0, 2, 'CREATE_IN_PROGRESS AWS::S3::Bucket B');
    progress.step(1, 2, 'CREATE_COMPLETE AWS::S3::Bucket B');
    progress.step(2, undefined, 'UPDATE_ROLLBACK_FAILED AWS::CloudFormation::Stack S');
    progress.stop();
    expect(output.stderr).toEqual([
      '  [1/2] CREATE_COMPLETE AWS::S3::Bucket B',
      '  [2] UPDATE_ROLLBACK_FAILED AWS::CloudFormation::Stack S',
    ]);
    expect(term.written()).toBe('');
  });
});

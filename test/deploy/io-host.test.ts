import type { IoMessage, IoRequest } from '@aws-cdk/toolkit-lib';
import { describe, expect, it } from 'vitest';
import { ProgressIoHost } from '../../src/deploy/io-host.js';
import { createProgress } from '../../src/deploy/progress.js';
import { createScrubber } from '../../src/deploy/secrets.js';
import { captureOutput } from './helpers.js';

const SECRET = 'MARKER-secret-0123456789';
const ID = 'MARKER-id-abcdef';

function message(over: Partial<IoMessage<unknown>>): IoMessage<unknown> {
  return { time: new Date(), level: 'info', action: 'deploy', message: '', data: undefined, ...over };
}

function host(approve: (motivation: string, diff: string) => Promise<boolean> = () => Promise.resolve(true)) {
  const output = captureOutput();
  const transcript: string[] = [];
  const io = new ProgressIoHost({
    progress: createProgress(output),
    scrub: createScrubber([SECRET, ID]),
    approveDeploy: approve,
    transcript,
  });
  return { output, transcript, io };
}

describe('ProgressIoHost', () => {
  it('scrubs credentials from every progress line and from the transcript', async () => {
    const { output, transcript, io } = host();
    await io.notify(
      message({ level: 'error', message: `Parameter FalconClientSecret=${SECRET} failed pattern` }),
    );
    await io.notify(message({ level: 'warn', message: `client ${ID} looked odd` }));
    await io.notify(
      message({ code: 'CDK_TOOLKIT_I5100', message: `\u001b[1mfalcon-org\u001b[22m: deploying... ${ID}` }),
    );
    await io.notify(
      message({
        code: 'CDK_TOOLKIT_I5502',
        message: `falcon-org | 3/9 | CREATE_FAILED | AWS::SecretsManager::Secret | Secret ${SECRET}`,
        data: {
          event: {
            ResourceStatus: 'CREATE_FAILED',
            ResourceType: 'AWS::SecretsManager::Secret',
            LogicalResourceId: 'Secret',
            ResourceStatusReason: `Invalid value ${SECRET}`,
          },
          progress: { completed: 3, total: 9, formatted: '3/9' },
        },
      }),
    );
    const text = output.all();
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(ID);
    expect(transcript.join('\n')).not.toContain(SECRET);
    expect(output.stderr).toEqual([
      'error: Parameter FalconClientSecret=*** failed pattern',
      'warning: client *** looked odd',
      'falcon-org: deploying... ***',
      '  [3/9] CREATE_FAILED AWS::SecretsManager::Secret Secret (Invalid value ***)',
    ]);
    expect(output.stdout).toEqual([]); // progress never goes to stdout
  });

  it('keeps IN_PROGRESS chatter and debug messages out of non-terminal output', async () => {
    const { output, io } = host();
    await io.notify(message({ level: 'debug', message: 'Retrieved account ID' }));
    await io.notify(
      message({
        code: 'CDK_TOOLKIT_I5502',
        message: 'x',
        data: {
          event: {
            ResourceStatus: 'CREATE_IN_PROGRESS',
            ResourceType: 'AWS::S3::Bucket',
            LogicalResourceId: 'B',
          },
          progress: { completed: 0, total: 2 },
        },
      }),
    );
    expect(output.stderr).toEqual([]);
  });

  it('answers the deploy question through approveDeploy, the destroy question yes, others with the default', async () => {
    const asked: string[] = [];
    const { io } = host((motivation: string, diff: string) => {
      asked.push(`${motivation}|${diff}`);
      return Promise.resolve(false);
    });
    const req = (
      code: IoRequest<unknown, boolean>['code'],
      data: unknown,
      defaultResponse: boolean,
    ): IoRequest<unknown, boolean> => ({
      ...message({ message: `diff with ${SECRET}`, data }),
      code,
      defaultResponse,
    });
    expect(
      await io.requestResponse(
        req('CDK_TOOLKIT_I5060', { motivation: 'Stack includes security-sensitive updates' }, true),
      ),
    ).toBe(false);
    expect(asked).toEqual(['Stack includes security-sensitive updates|diff with ***']);
    expect(await io.requestResponse(req('CDK_TOOLKIT_I7010', {}, false))).toBe(true);
    expect(await io.requestResponse(req('CDK_TOOLKIT_I9999', {}, false))).toBe(false);
  });
});

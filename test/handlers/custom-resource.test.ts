import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildResponse,
  sendResponse,
  withDeadline,
  type CustomResourceEvent,
} from '../../src/handlers/shared/custom-resource.js';
import { CfnCaptureServer } from './cfn-capture-server.js';

const event: CustomResourceEvent = {
  RequestType: 'Create',
  ResponseURL: 'http://unused',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/s/1',
  RequestId: 'r1',
  ResourceType: 'Custom::EcrConnections',
  LogicalResourceId: 'EcrConnections',
};

describe('custom resource responses', () => {
  let capture: CfnCaptureServer;
  beforeAll(async () => {
    capture = await CfnCaptureServer.start();
  });
  afterAll(() => capture.close());

  it('keeps the answer under CloudFormation 4 KB limit by shortening the reason', () => {
    const response = buildResponse(event, 'FAILED', 'x'.repeat(10_000), 'pid', { A: '1' });
    expect(Buffer.byteLength(JSON.stringify(response))).toBeLessThanOrEqual(4096);
    expect(response.Reason).toMatch(/\(truncated\)$/);
    expect(response.Data).toEqual({ A: '1' });
  });

  it('PUTs the answer without a content type and retries a 5xx from the response URL', async () => {
    capture.failNext = 2;
    await sendResponse(capture.url('retry'), buildResponse(event, 'SUCCESS', 'ok', 'pid'), { backoffMs: 1 });
    const answer = capture.answerFor('retry');
    expect(answer.method).toBe('PUT');
    expect(answer.headers['content-type']).toBe('');
    expect(answer.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'pid', RequestId: 'r1' });
  });

  it('stops retrying when the next pause would outlast the time budget, and says why', async () => {
    capture.failNext = 100;
    const before = capture.responses.length;

    const sending = sendResponse(capture.url('budget'), buildResponse(event, 'SUCCESS', 'ok', 'pid'), {
      attempts: 50,
      backoffMs: 10_000,
      budgetMs: 5_000,
    });

    // One attempt, then no 10 s pause inside a 5 s budget: it gives up instead of sleeping.
    await expect(sending).rejects.toThrow(/could not deliver the CloudFormation response: .*HTTP 500/);
    expect(capture.failNext).toBe(99);
    expect(capture.responses.length).toBe(before);
    capture.failNext = 0;
  });

  it('reports unfinished work at the deadline and passes an aborted signal to it', async () => {
    let seen: AbortSignal | undefined;
    const result = await withDeadline(20, (signal) => {
      seen = signal;
      return new Promise<string>(() => undefined);
    });
    expect(result).toEqual({ finished: false });
    expect(seen?.aborted).toBe(true);
    await expect(withDeadline(10_000, () => Promise.resolve('done'))).resolves.toEqual({
      finished: true,
      value: 'done',
    });
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEksDiscoverHandler } from '../../src/handlers/eks-discover.js';
import { createEksEventHandler } from '../../src/handlers/eks-event.js';
import type { LambdaContext } from '../../src/handlers/shared/lambda.js';
import { EksWorld } from '../eks/eks-world.js';
import { captureLogs, type LogCapture } from '../shared/log-capture.js';

const MALFORMED = 'hello';
const SCHEDULE = { source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'tick' };

let world: EksWorld;
let logs: LogCapture;

beforeEach(() => {
  world = new EksWorld();
  world.addAccounts('r-root', []);
  // What the Lambda runtime sets for an on-demand execution environment (not provisioned concurrency).
  vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
  for (const key of ['AWS_LAMBDA_LOG_LEVEL', 'POWERTOOLS_LOG_LEVEL', 'LOG_LEVEL', 'POWERTOOLS_DEV'])
    vi.stubEnv(key, undefined);
  logs = captureLogs();
});
afterEach(() => {
  world.reset();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

function context(requestId: string): LambdaContext {
  return { ...world.context(), awsRequestId: requestId };
}

const eventHandler = () =>
  createEksEventHandler({ env: world.env(), services: world.services, sleep: () => Promise.resolve() });

/** The lines logged while `work` ran. */
async function linesOf(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const before = logs.records().length;
  await work();
  return logs.records().slice(before);
}

describe('one log shape for the handlers', () => {
  it('every line of an invocation carries its request ID and the function ARN; cold start is true on the first invocation only', async () => {
    const handler = eventHandler();

    const first = await linesOf(() => handler(MALFORMED, context('req-1')));
    const second = await linesOf(() => handler(MALFORMED, context('req-2')));

    expect(first.length).toBeGreaterThan(0);
    expect(second.length).toBeGreaterThan(0);
    for (const line of first) {
      expect(Object.keys(line).slice(0, 4)).toEqual(['level', 'message', 'timestamp', 'service']);
      expect(line).toMatchObject({
        service: 'falcon-org-eks-event',
        function_request_id: 'req-1',
        cold_start: true,
        function_arn: world.context().invokedFunctionArn,
      });
    }
    for (const line of second) {
      expect(line).toMatchObject({ function_request_id: 'req-2', cold_start: false });
    }
    expect(second.at(-1)).toMatchObject({ level: 'WARN', message: 'dropped malformed eks event' });
  });

  it('the per-account report and summary of a discovery sweep carry the request ID', async () => {
    const handler = createEksDiscoverHandler({ env: world.env(), services: world.services });

    const lines = await linesOf(() => handler(SCHEDULE, context('sweep-1')));

    expect(lines.map((l) => l.message)).toContain('eks discovery summary');
    for (const line of lines) {
      expect(line).toMatchObject({
        service: 'falcon-org-eks-discover',
        function_request_id: 'sweep-1',
        cold_start: true,
      });
    }
  });

  it('debug lines are left out unless POWERTOOLS_LOG_LEVEL asks for them', async () => {
    const quiet = await linesOf(() => eventHandler()(MALFORMED, context('req-1')));
    expect(quiet.map((l) => l.level)).not.toContain('DEBUG');
    expect(quiet.map((l) => l.message)).toContain('dropped malformed eks event');

    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    const chatty = await linesOf(() => eventHandler()(MALFORMED, context('req-2')));
    expect(chatty).toContainEqual(
      expect.objectContaining({
        level: 'DEBUG',
        message: 'eks event received',
        function_request_id: 'req-2',
      }),
    );
  });

  it("Lambda's log-level control (AWS_LAMBDA_LOG_LEVEL) wins: at ERROR, debug and warn lines are left out", async () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', 'ERROR');

    const lines = await linesOf(() => eventHandler()(MALFORMED, context('req-1')));

    const handlerLines = lines.filter((l) => l.service === 'falcon-org-eks-event');
    expect(handlerLines.map((l) => l.message)).not.toContain('eks event received');
    expect(handlerLines.map((l) => l.message)).not.toContain('dropped malformed eks event');
  });
});

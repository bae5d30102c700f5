import {
  createFalconClient,
  type FalconClient,
  type FalconClientOptions,
  type FalconEvent,
} from '../../src/falcon/index.js';
import type { FakeFalconServer } from '../fakes/falcon-server.js';
import { TestClock } from '../fakes/falcon/clock.js';

export interface Harness {
  readonly client: FalconClient;
  readonly clock: TestClock;
  readonly events: FalconEvent[];
}

/** A client pointed at the fake with a test clock (waits are recorded, not slept). */
export function clientFor(fake: FakeFalconServer, overrides: Partial<FalconClientOptions> = {}): Harness {
  const clock = new TestClock();
  const events: FalconEvent[] = [];
  const client = createFalconClient({
    baseUrl: fake.baseUrl,
    credentials: fake.credentials,
    clock,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
  return { client, clock, events };
}

export const ECR_URL = 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com';
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/falcon-org-ecr-connection';
export const EXTERNAL_ID = 'ext-0f7c3c1e9d2b4a58';

/** Runs a promise expected to reject and returns the error. */
export async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error('expected the promise to reject');
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FalconAuthError, type FalconEvent } from '../../src/falcon/index.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import { ECR_URL, EXTERNAL_ID, ROLE_ARN, clientFor, failureOf } from './helpers.js';

/** Everything an error exposes: message, cause chain, own properties. */
function everythingIn(error: Error): string {
  const parts: string[] = [];
  let current: unknown = error;
  while (current instanceof Error) {
    parts.push(String(current), current.stack ?? '', JSON.stringify(current));
    current = current.cause;
  }
  return parts.join('\n');
}

describe('secrets stay out of errors and events', () => {
  let fake: FakeFalconServer;
  beforeAll(async () => {
    fake = await FakeFalconServer.start();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('redacts the client secret, issued tokens and the external ID, even when Falcon echoes them', async () => {
    const events: FalconEvent[] = [];
    const { client } = clientFor(fake, { onEvent: (e) => events.push(e), retry: { maxAttempts: 2 } });
    await client.registryConnections.listIds();
    const token = fake.tokens().at(-1)?.token ?? '';
    expect(token.length).toBeGreaterThan(20);
    const echo = `bad request for client secret ${fake.credentials.clientSecret} with token ${token} and external ID ${EXTERNAL_ID}`;
    fake.inject(
      'registries.create',
      { kind: 'status', status: 500, errors: [{ code: 500, message: echo }] },
      2,
    );
    const error = await failureOf(
      client.registryConnections.createEcrConnection({
        url: ECR_URL,
        roleArn: ROLE_ARN,
        externalId: EXTERNAL_ID,
      }),
    );
    const text = everythingIn(error) + JSON.stringify(events);
    expect(text).toContain('bad request for client secret *** with token *** and external ID ***');
    expect(text).not.toContain(fake.credentials.clientSecret);
    expect(text).not.toContain(token);
    expect(text).not.toContain(EXTERNAL_ID);
  });

  it('never includes the secret in credential errors, events or their causes', async () => {
    const secret = 'not-the-right-secret-4b1d9e';
    const events: FalconEvent[] = [];
    const { client } = clientFor(fake, {
      credentials: { clientId: fake.credentials.clientId, clientSecret: secret },
      onEvent: (e) => events.push(e),
    });
    const error = await failureOf(client.registryConnections.listConnections());
    expect(error).toBeInstanceOf(FalconAuthError);
    const text = everythingIn(error) + JSON.stringify(events);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(encodeURIComponent(secret));
  });
});

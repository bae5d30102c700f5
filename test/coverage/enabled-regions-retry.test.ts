/**
 * account:ListRegions over HTTP (a local stand-in of the Account API, reached through the SDK's own
 * AWS_ENDPOINT_URL_ACCOUNT setting), so the SDK's retry middleware really runs: one throttled answer
 * must not cost the account its regions (coverage would report the account's cells unknown).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AccountApiEnabledRegions } from '../../src/aws/account-regions.js';
import type { AccountCredentials } from '../../src/aws/account-credentials.js';
import { AwsAccountReaders } from '../../src/coverage/aws-readers.js';

const A = '111111111111';
const provider = () =>
  Promise.resolve({
    accessKeyId: 'a',
    secretAccessKey: 'b',
    sessionToken: 'c',
    expiration: new Date(Date.now() + 3_600_000),
  });

let server: Server;
let throttleNext = 0;
let calls = 0;
const saved = process.env.AWS_ENDPOINT_URL_ACCOUNT;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls += 1;
      if (req.url !== '/listRegions') {
        res.writeHead(404).end();
        return;
      }
      if (throttleNext > 0) {
        throttleNext -= 1;
        res
          .writeHead(429, {
            'content-type': 'application/json',
            'x-amzn-errortype': 'TooManyRequestsException',
          })
          .end(JSON.stringify({ message: 'Rate exceeded' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          Regions: [
            { RegionName: 'us-east-1', RegionOptStatus: 'ENABLED_BY_DEFAULT' },
            { RegionName: 'eu-west-1', RegionOptStatus: 'ENABLED_BY_DEFAULT' },
          ],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.AWS_ENDPOINT_URL_ACCOUNT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_ACCOUNT;
  else process.env.AWS_ENDPOINT_URL_ACCOUNT = saved;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  throttleNext = 0;
  calls = 0;
});

describe('enabled regions survive a throttled ListRegions', () => {
  it('the default client retries a throttled call', async () => {
    throttleNext = 1;
    const regions = await new AccountApiEnabledRegions().list(A, provider);
    expect(regions.sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(calls).toBe(2);
  });

  it("coverage's readers retry it too, with their own attempt budget", async () => {
    throttleNext = 2;
    const credentials = {
      get: () => provider(),
      provider: () => provider,
    } as unknown as AccountCredentials;
    const readers = new AwsAccountReaders(credentials, {
      homeRegion: 'eu-west-1',
      ownershipParameterName: '/falcon-org/ecr',
      maxAttempts: 3,
    });
    const reader = await readers.open({ id: A, name: 'member' });
    expect(await reader.enabledRegions()).toEqual(['eu-west-1', 'us-east-1']);
    expect(calls).toBe(3);
  });

  it('gives up after the attempt budget (the failure stays visible)', async () => {
    throttleNext = 10;
    await expect(new AccountApiEnabledRegions().list(A, provider)).rejects.toMatchObject({
      name: 'TooManyRequestsException',
    });
    expect(calls).toBe(3);
  });
});

import { createServer, type IncomingMessage, type Server } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EcrClients } from '../../src/registry/ecr-clients.js';
import { EcrRegistrySource } from '../../src/registry/ecr-source.js';
import { listenOnLoopback } from '../services/free-port.js';

interface Seen {
  readonly kind: 'sts' | 'ecr';
  readonly authorization: string;
  readonly body: string;
}

const ASSUME_ROLE_RESPONSE = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIAASSUMEDROLEKEY</AccessKeyId>
      <SecretAccessKey>assumed-secret</SecretAccessKey>
      <SessionToken>assumed-session-token</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::111111111111:assumed-role/CatalogReader/falcon-org-catalog</Arn>
      <AssumedRoleId>AROAEXAMPLE:falcon-org-catalog</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</AssumeRoleResponse>`;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => resolve(body));
  });
}

/**
 * End-to-end wiring without AWS: the SDK's own endpoint settings (AWS_ENDPOINT_URL_STS,
 * AWS_ENDPOINT_URL_ECR) point both services at a local fake, so the real fromTemporaryCredentials
 * provider assumes the role and the ECR call is signed with the assumed credentials.
 */
describe('ECR cross-account wiring through the SDK endpoint settings', () => {
  let server: Server;
  const seen: Seen[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      void readBody(req).then((body) => {
        const target = req.headers['x-amz-target'];
        const authorization = req.headers.authorization ?? '';
        if (typeof target === 'string' && target.endsWith('.DescribeRepositories')) {
          seen.push({ kind: 'ecr', authorization, body });
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ repositories: [{ repositoryName: 'team/app' }] }));
          return;
        }
        seen.push({ kind: 'sts', authorization, body });
        res.writeHead(200, { 'content-type': 'text/xml' }).end(ASSUME_ROLE_RESPONSE);
      });
    });
    const url = await listenOnLoopback(server);
    process.env.AWS_ENDPOINT_URL_STS = url;
    process.env.AWS_ENDPOINT_URL_ECR = url;
    process.env.AWS_ACCESS_KEY_ID = 'AKIACALLERKEY';
    process.env.AWS_SECRET_ACCESS_KEY = 'caller-secret';
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('assumes the role of the account, then calls ECR of that account with the assumed credentials', async () => {
    const clients = new EcrClients({ roleArnPattern: 'arn:{partition}:iam::{accountId}:role/CatalogReader' });
    const source = new EcrRegistrySource({ accountId: '111111111111', region: 'eu-west-1', clients });
    expect(await source.listRepositories()).toEqual(['team/app']);
    clients.destroy();

    const sts = seen.filter((s) => s.kind === 'sts');
    const ecr = seen.filter((s) => s.kind === 'ecr');
    expect(sts).toHaveLength(1);
    const params = new URLSearchParams(sts[0]?.body);
    expect(params.get('Action')).toBe('AssumeRole');
    expect(params.get('RoleArn')).toBe('arn:aws:iam::111111111111:role/CatalogReader');
    expect(params.get('RoleSessionName')).toBe('falcon-org-catalog');
    expect(sts[0]?.authorization).toContain('Credential=AKIACALLERKEY/');

    expect(ecr).toHaveLength(1);
    expect(ecr[0]?.authorization).toContain('Credential=ASIAASSUMEDROLEKEY/');
    expect(ecr[0]?.authorization).toContain('/eu-west-1/ecr/aws4_request');
    expect(JSON.parse(ecr[0]?.body ?? '{}')).toEqual({ registryId: '111111111111', maxResults: 1000 });
  });
});

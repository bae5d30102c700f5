import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEcrAwsClients } from '../../src/ecr/aws-deps.js';
import { SecretsManagerReader } from '../../src/aws/secrets.js';
import { SsmOwnershipStore } from '../../src/ecr/ssm-ownership-store.js';
import { listenOnLoopback } from '../services/free-port.js';

/**
 * The default clients take their endpoints from the SDK's own settings: pointing AWS_ENDPOINT_URL_SSM and
 * AWS_ENDPOINT_URL_SECRETS_MANAGER at a local server sends the unchanged code there.
 */
describe('AWS endpoint settings', () => {
  const seen: string[] = [];
  let server: Server;
  const saved = { ...process.env };

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        seen.push(target);
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        if (target === 'AmazonSSM.GetParameter') {
          res.statusCode = 400;
          res.end(JSON.stringify({ __type: 'ParameterNotFound', message: 'nope' }));
        } else {
          res.end(JSON.stringify({ Name: 'x', SecretString: 'from-local-endpoint' }));
        }
      });
    });
    const url = await listenOnLoopback(server);
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'test-only',
      AWS_ENDPOINT_URL_SSM: url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
    });
  });

  afterAll(async () => {
    process.env = saved;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends SSM and Secrets Manager calls to the configured endpoints', async () => {
    const clients = createEcrAwsClients();

    await expect(new SsmOwnershipStore(clients.ssm, '/p').load()).resolves.toBeUndefined();
    await expect(new SecretsManagerReader(clients.secretsManager).getSecretString('s')).resolves.toBe(
      'from-local-endpoint',
    );
    expect(seen).toEqual(['AmazonSSM.GetParameter', 'secretsmanager.GetSecretValue']);
  });
});

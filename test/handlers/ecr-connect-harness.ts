import { AccountClient, ListRegionsCommand } from '@aws-sdk/client-account';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createEcrConnectDeps } from '../../src/ecr/aws-deps.js';
import type { FalconEvent } from '../../src/falcon/events.js';
import { createEcrConnectHandler } from '../../src/handlers/ecr-connect.js';
import type { CustomResourceEvent } from '../../src/handlers/shared/custom-resource.js';
import type { LambdaContext } from '../../src/handlers/shared/lambda.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import { TestClock } from '../fakes/falcon/clock.js';
import { CfnCaptureServer } from './cfn-capture-server.js';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const FALCON_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:falcon-org/falcon-api-AbCdEf`;
export const EXTERNAL_ID_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:falcon-org/ecr-external-id-GhIjKl`;
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/falcon-org-ecr-connection`;
export const PARAMETER = '/falcon-org/ecr/prod/connections';
export const EXTERNAL_ID = 'Xy7Qw2Er9Ty4Ui1Op3As5Df8';

export const ENV = {
  FALCON_SECRET_ARN: FALCON_SECRET,
  EXTERNAL_ID_SECRET_ARN: EXTERNAL_ID_SECRET,
  CONNECTION_ROLE_ARN: ROLE_ARN,
  OWNERSHIP_PARAMETER_NAME: PARAMETER,
};

/**
 * Everything a handler test needs: the Falcon stand-in, a capture server for CloudFormation answers,
 * stateful AWS fakes (Secrets Manager values, one SSM parameter store, the enabled regions) and the
 * handler wired to them. Falcon's backoff waits run on a test clock, so retries cost no real time.
 */
export class EcrConnectHarness {
  readonly secretsManager = mockClient(SecretsManagerClient);
  readonly ssm = mockClient(SSMClient);
  readonly account = mockClient(AccountClient);
  /** SSM parameters by name (the ownership record lives here). */
  readonly parameters = new Map<string, string>();
  /** Secret values by ARN; a missing entry answers ResourceNotFoundException. */
  readonly secrets = new Map<string, string>();
  enabledRegions = ['us-east-1', 'us-west-2'];
  readonly falconEvents: FalconEvent[] = [];
  /** Runs before each request the Falcon client sends (to change the stand-in mid-run). */
  beforeFalconRequest: ((method: string, url: string, body: string) => void) | undefined;
  /** Added to the function's environment. */
  envOverrides: Record<string, string> = {};
  private requestCounter = 0;

  private constructor(
    readonly falcon: FakeFalconServer,
    readonly capture: CfnCaptureServer,
  ) {}

  static async start(): Promise<EcrConnectHarness> {
    const harness = new EcrConnectHarness(await FakeFalconServer.start(), await CfnCaptureServer.start());
    harness.install();
    return harness;
  }

  private install(): void {
    this.secrets.set(
      FALCON_SECRET,
      JSON.stringify({
        ClientId: this.falcon.credentials.clientId,
        ClientSecret: this.falcon.credentials.clientSecret,
        Cloud: 'us-1',
        BaseUrl: this.falcon.baseUrl,
      }),
    );
    this.secrets.set(EXTERNAL_ID_SECRET, EXTERNAL_ID);
    this.secretsManager.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => {
      const value = this.secrets.get(input.SecretId);
      if (value === undefined) throw new ResourceNotFoundException({ message: 'not found', $metadata: {} });
      return { SecretString: value };
    });
    this.ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
      const value = this.parameters.get(input.Name);
      if (value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
      return { Parameter: { Name: input.Name, Value: value, Type: 'String' } };
    });
    this.ssm
      .on(PutParameterCommand)
      .callsFake((input: { Name: string; Value: string; Overwrite?: boolean }) => {
        if (this.parameters.has(input.Name) && input.Overwrite !== true)
          throw new Error('ParameterAlreadyExists');
        this.parameters.set(input.Name, input.Value);
        return { Version: 1 };
      });
    this.ssm.on(DeleteParameterCommand).callsFake((input: { Name: string }) => {
      if (!this.parameters.delete(input.Name))
        throw new ParameterNotFound({ message: 'not found', $metadata: {} });
      return {};
    });
    this.account.on(ListRegionsCommand).callsFake(() => ({
      Regions: this.enabledRegions.map((RegionName) => ({ RegionName, RegionOptStatus: 'ENABLED' })),
    }));
  }

  /** The handler, wired like production except for the Falcon client's clock and request hook. */
  handler(): ReturnType<typeof createEcrConnectHandler> {
    const clients = {
      secretsManager: new SecretsManagerClient({ region: REGION }),
      ssm: new SSMClient({ region: REGION }),
      account: () => new AccountClient({ region: REGION }),
    };
    const fetchWithHook: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      this.beforeFalconRequest?.(init?.method ?? 'GET', url, typeof init?.body === 'string' ? init.body : '');
      return fetch(input, init);
    };
    return createEcrConnectHandler({
      env: { ...ENV, ...this.envOverrides },
      send: { backoffMs: 1 },
      services: (env, partition) =>
        createEcrConnectDeps(
          clients,
          env.ownershipParameterName,
          partition,
          (e) => this.falconEvents.push(e),
          {
            clock: new TestClock(),
            fetch: fetchWithHook,
            registryConnections: {
              credentialValidation: { timeoutMs: 60_000, baseDelayMs: 1000, maxDelayMs: 5000 },
            },
          },
        ),
    });
  }

  context(remainingMs = 300_000): LambdaContext {
    const start = Date.now();
    return {
      invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:falcon-org-ecr-connect`,
      awsRequestId: 'lambda-request',
      getRemainingTimeInMillis: () => remainingMs - (Date.now() - start),
    };
  }

  event(
    type: CustomResourceEvent['RequestType'],
    properties: Record<string, unknown>,
    extra: Partial<CustomResourceEvent> = {},
  ): CustomResourceEvent {
    this.requestCounter += 1;
    const requestId = `req-${this.requestCounter}`;
    return {
      RequestType: type,
      ResponseURL: this.capture.url(requestId),
      StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/StackSet-falcon-org-ecr/abc`,
      RequestId: requestId,
      ResourceType: 'Custom::FalconEcrConnections',
      LogicalResourceId: 'EcrConnections',
      ResourceProperties: { ServiceToken: 'arn:aws:lambda:x', ...properties },
      ...extra,
    };
  }

  /** Sends a custom resource request and returns CloudFormation's answer. */
  async invoke(event: CustomResourceEvent, remainingMs?: number): Promise<Record<string, unknown>> {
    await this.handler()(event, this.context(remainingMs));
    return this.capture.answerFor(event.RequestId).body;
  }

  /** The stored ownership record (parsed), if any. */
  record(): { connections: Record<string, string>; desired?: unknown } | undefined {
    const text = this.parameters.get(PARAMETER);
    return text === undefined ? undefined : (JSON.parse(text) as { connections: Record<string, string> });
  }

  ecrUrl(region: string, account = ACCOUNT): string {
    return `https://${account}.dkr.ecr.${region}.amazonaws.com`;
  }

  /** Stored Falcon connections' URLs, sorted. */
  connectedUrls(): string[] {
    return this.falcon
      .connections()
      .map((c) => c.url)
      .sort();
  }

  async close(): Promise<void> {
    this.secretsManager.restore();
    this.ssm.restore();
    this.account.restore();
    await this.falcon.close();
    await this.capture.close();
  }
}

import { AccountClient, ListRegionsCommand } from '@aws-sdk/client-account';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  CloudWatchLogsClient,
  DeleteLogGroupCommand,
  ResourceNotFoundException as LogsResourceNotFound,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  ParameterVersionNotFound,
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
export const LEASE_PARAMETER = `${PARAMETER}-lease`;
export const LOG_GROUP = 'StackSet-falcon-org-ecr-ConnectLogs-AbC123';
export const EXTERNAL_ID = 'Xy7Qw2Er9Ty4Ui1Op3As5Df8';

export const ENV = {
  FALCON_SECRET_ARN: FALCON_SECRET,
  EXTERNAL_ID_SECRET_ARN: EXTERNAL_ID_SECRET,
  CONNECTION_ROLE_ARN: ROLE_ARN,
  OWNERSHIP_PARAMETER_NAME: PARAMETER,
};

export interface StoredRecord {
  connections: Record<string, string>;
  pending: string[];
  desired?: { regions: string[] | 'all'; active: boolean };
  fingerprints?: Record<string, string>;
  provisional?: string[];
}

/**
 * Everything a handler test needs: the Falcon stand-in, a capture server for CloudFormation answers,
 * stateful AWS fakes (Secrets Manager values, one SSM parameter store, the enabled regions) and the
 * handler wired to them. Falcon's backoff waits run on a test clock, so retries cost no real time.
 */
export class EcrConnectHarness {
  readonly secretsManager = mockClient(SecretsManagerClient);
  readonly ssm = mockClient(SSMClient);
  readonly account = mockClient(AccountClient);
  readonly logs = mockClient(CloudWatchLogsClient);
  /** SSM parameters by name: the current value (the ownership record and the run lease live here). */
  readonly parameters = new Map<string, string>();
  /**
   * Every version of each parameter, as SSM numbers them (1, 2, …, one per PutParameter; a deleted
   * parameter starts again at 1). `name:version` selectors read old versions.
   */
  readonly history = new Map<string, string[]>();
  /** Log groups that exist in the account. */
  readonly logGroups = new Set<string>([LOG_GROUP]);
  /** When set, every Falcon request waits for it first (to hold a run in the middle). */
  falconGate: Promise<void> | undefined;
  /** Secret values by ARN; a missing entry answers ResourceNotFoundException. */
  readonly secrets = new Map<string, string>();
  enabledRegions = ['us-east-1', 'us-west-2'];
  readonly falconEvents: FalconEvent[] = [];
  /** Runs before each request the Falcon client sends (to change the stand-in mid-run). */
  beforeFalconRequest: ((method: string, url: string, body: string) => void) | undefined;
  /** Added to the function's environment. */
  envOverrides: Record<string, string> = {};
  /** The partition of the function's ARN (the handler reads its partition from it). */
  partition: 'aws' | 'aws-us-gov' = 'aws';
  /** Added to the handler's options (clock, follow-up scheduler). */
  handlerOptions: Partial<Parameters<typeof createEcrConnectHandler>[0]> = {};
  private requestCounter = 0;
  private invocationCounter = 0;

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
      const selector = /^(.*):(\d+)$/.exec(input.Name);
      const name = selector ? (selector[1] ?? '') : input.Name;
      const versions = this.history.get(name);
      if (versions === undefined || !this.parameters.has(name)) {
        throw new ParameterNotFound({ message: 'not found', $metadata: {} });
      }
      const version = selector ? Number(selector[2]) : versions.length;
      const value = versions[version - 1];
      if (value === undefined) {
        throw new ParameterVersionNotFound({ message: 'no such version', $metadata: {} });
      }
      return { Parameter: { Name: name, Value: value, Type: 'String', Version: version } };
    });
    this.ssm
      .on(PutParameterCommand)
      .callsFake((input: { Name: string; Value: string; Overwrite?: boolean }) => {
        if (this.parameters.has(input.Name) && input.Overwrite !== true) {
          throw new ParameterAlreadyExists({ message: 'exists', $metadata: {} });
        }
        this.parameters.set(input.Name, input.Value);
        const versions = this.history.get(input.Name) ?? [];
        versions.push(input.Value);
        this.history.set(input.Name, versions);
        return { Version: versions.length, Tier: 'Standard' };
      });
    this.ssm.on(DeleteParameterCommand).callsFake((input: { Name: string }) => {
      if (!this.parameters.delete(input.Name))
        throw new ParameterNotFound({ message: 'not found', $metadata: {} });
      this.history.delete(input.Name);
      return {};
    });
    this.logs.on(DeleteLogGroupCommand).callsFake((input: { logGroupName: string }) => {
      if (!this.logGroups.delete(input.logGroupName)) {
        throw new LogsResourceNotFound({ message: 'The specified log group does not exist.', $metadata: {} });
      }
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
      logs: () => new CloudWatchLogsClient({ region: REGION }),
    };
    const fetchWithHook: typeof fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (this.falconGate !== undefined) await this.falconGate;
      this.beforeFalconRequest?.(init?.method ?? 'GET', url, typeof init?.body === 'string' ? init.body : '');
      return fetch(input, init);
    };
    return createEcrConnectHandler({
      ...this.handlerOptions,
      env: { ...ENV, ...this.envOverrides },
      send: { backoffMs: 1 },
      leasePollMs: 20,
      services: (env, partition) =>
        createEcrConnectDeps(
          clients,
          {
            ownershipParameterName: env.ownershipParameterName,
            ...(env.logGroupName !== undefined ? { logGroupName: env.logGroupName } : {}),
          },
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
    this.invocationCounter += 1;
    return {
      invokedFunctionArn: `arn:${this.partition}:lambda:${REGION}:${ACCOUNT}:function:falcon-org-ecr-connect`,
      awsRequestId: `lambda-request-${this.invocationCounter}`,
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
  record(): StoredRecord | undefined {
    const text = this.parameters.get(PARAMETER);
    return text === undefined ? undefined : (JSON.parse(text) as StoredRecord);
  }

  /** The stored run lease (parsed), if any. */
  lease(): { holder: string; expiresAtMs: number } | undefined {
    const text = this.parameters.get(LEASE_PARAMETER);
    return text === undefined ? undefined : (JSON.parse(text) as { holder: string; expiresAtMs: number });
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
    this.logs.restore();
    await this.falcon.close();
    await this.capture.close();
  }
}

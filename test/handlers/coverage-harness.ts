import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { CoverageServices } from '../../src/handlers/coverage.js';
import type { AccountReader, CoverageDeps } from '../../src/coverage/model.js';

/**
 * A stateful S3 bucket and CloudWatch namespace behind aws-sdk-client-mock: objects written are
 * readable afterwards (so a later `status --latest` sees exactly what a run stored), metric data
 * accumulates, and a write can be made to fail for one key.
 */
export class CoverageHarness {
  readonly s3 = mockClient(S3Client);
  readonly cloudWatch = mockClient(CloudWatchClient);
  readonly objects = new Map<string, { body: string; contentType?: string }>();
  readonly metrics: { namespace: string; datum: MetricDatum }[] = [];
  /** Keys whose next write fails with AccessDenied. */
  readonly failingKeys = new Set<string>();
  closed = 0;

  constructor(readonly bucket = 'reports-bucket') {
    this.s3
      .on(PutObjectCommand)
      .callsFake(async (input: { Bucket?: string; Key?: string; Body?: unknown; ContentType?: string }) => {
        const key = `${input.Bucket ?? ''}/${input.Key ?? ''}`;
        if (this.failingKeys.delete(input.Key ?? '')) {
          throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
        }
        this.objects.set(key, {
          body: await bodyText(input.Body),
          ...(input.ContentType ? { contentType: input.ContentType } : {}),
        });
        return {};
      });
    this.s3.on(GetObjectCommand).callsFake((input: { Bucket?: string; Key?: string }) => {
      const object = this.objects.get(`${input.Bucket ?? ''}/${input.Key ?? ''}`);
      if (!object) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      return { Body: { transformToString: () => Promise.resolve(object.body) } };
    });
    this.cloudWatch
      .on(PutMetricDataCommand)
      .callsFake((input: { Namespace?: string; MetricData?: MetricDatum[] }) => {
        for (const datum of input.MetricData ?? [])
          this.metrics.push({ namespace: input.Namespace ?? '', datum });
        return {};
      });
  }

  object(key: string): string | undefined {
    return this.objects.get(`${this.bucket}/${key}`)?.body;
  }

  keys(): string[] {
    return [...this.objects.keys()].map((k) => k.slice(this.bucket.length + 1)).sort();
  }

  services(deps: CoverageDeps = smallOrganization()): CoverageServices {
    return {
      deps,
      publish: {
        s3: new S3Client({ region: 'eu-west-1' }),
        cloudWatch: new CloudWatchClient({ region: 'eu-west-1' }),
      },
      close: () => {
        this.closed += 1;
        return Promise.resolve();
      },
    };
  }

  reset(): void {
    this.s3.reset();
    this.cloudWatch.reset();
  }
}

/**
 * A small organization in memory, read through the core's ports: account 111111111111 is readable
 * (eu-west-1: i-1 protected and seen by Falcon, i-2 not SSM-managed; us-east-1: nothing running);
 * 222222222222 refuses the coverage role; 444444444444 is excluded by the settings.
 */
export function smallOrganization(): CoverageDeps & { readerCalls: string[] } {
  const readerCalls: string[] = [];
  const reader: AccountReader = {
    enabledRegions: () => Promise.resolve(['eu-west-1', 'us-east-1']),
    runningInstances: (region) =>
      Promise.resolve(region === 'eu-west-1' ? [{ instanceId: 'i-1' }, { instanceId: 'i-2' }] : []),
    managedInstances: (region) =>
      Promise.resolve(region === 'eu-west-1' ? [{ instanceId: 'i-1', pingStatus: 'Online' }] : []),
    association: (region) =>
      Promise.resolve({ associationId: `assoc-${region}`, lastExecutionStatus: 'Success' }),
    associationCompliance: (region) =>
      Promise.resolve(region === 'eu-west-1' ? [{ instanceId: 'i-1', status: 'COMPLIANT' }] : []),
    clusters: () => Promise.resolve([]),
    ecrOwnership: () => Promise.resolve(undefined),
  };
  return {
    readerCalls,
    directory: {
      listAccounts: (parent: string) =>
        Promise.resolve(
          parent === 'ou-ab12-11111111'
            ? [
                { id: '111111111111', name: 'prod', state: 'ACTIVE' },
                { id: '222222222222', name: 'locked', state: 'ACTIVE' },
                { id: '444444444444', name: 'excluded', state: 'ACTIVE' },
              ]
            : [],
        ),
      listChildOus: () => Promise.resolve([]),
    },
    readers: {
      open: (account) => {
        readerCalls.push(account.id);
        if (account.id === '222222222222') {
          return Promise.reject(
            Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }),
          );
        }
        return Promise.resolve(reader);
      },
    },
    falconHosts: {
      hostsInAccount: (accountId) =>
        Promise.resolve(
          accountId === '111111111111'
            ? [
                {
                  deviceId: 'dev-1',
                  instanceId: 'i-1',
                  serviceProviderAccountId: '111111111111',
                  zoneGroup: 'eu-west-1a',
                },
              ]
            : [],
        ),
    },
    registries: { listConnections: () => Promise.resolve([]) },
    now: () => new Date('2026-11-29T06:00:00.000Z'),
  };
}

export const SETTINGS = {
  partition: 'aws',
  homeRegion: 'eu-west-1',
  targets: ['ou-ab12-11111111'],
  excludeAccounts: ['444444444444'],
  features: { ssmDistributor: ['eu-west-1', 'us-east-1'], ecrConnections: 'enabled' },
  falcon: { cloud: 'us-2', baseUrl: 'http://127.0.0.1:9' },
  associationName: 'falcon-org-falcon-sensor',
  deploymentId: 'falcon-org',
  readRoleName: 'falcon-org-coverage-read',
  ownershipParameterName: '/falcon-org/ecr-connections/ownership',
  concurrency: 12,
  hostStaleAfterHours: 36,
};

export function functionEnv(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    FALCON_ORG_COVERAGE_SETTINGS: JSON.stringify(SETTINGS),
    FALCON_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:999999999999:secret:falcon-abc123',
    FALCON_ORG_COVERAGE_BUCKET: 'reports-bucket',
    FALCON_ORG_COVERAGE_NAMESPACE: 'FalconOrg/Coverage',
    ...overrides,
  };
}

export function lambdaContext(remainingMs = 900_000) {
  return {
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:999999999999:function:falcon-org-coverage',
    awsRequestId: 'request-1',
    getRemainingTimeInMillis: () => remainingMs,
  };
}

export const SCHEDULED_EVENT = {
  source: 'aws.events',
  'detail-type': 'Scheduled Event',
  id: 'event-1',
  time: '2026-11-29T06:00:00Z',
};

/** The text of a PutObject body: a string, a buffer or a stream (read to its end, as S3 would). */
export async function bodyText(body: unknown): Promise<string> {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (body instanceof Readable) {
    const parts: Buffer[] = [];
    for await (const chunk of body) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return Buffer.concat(parts).toString('utf8');
  }
  return '';
}

/**
 * `coverage`: builds the organization's coverage report and publishes it (S3 `latest.json`,
 * `latest.html`, a dated copy; CloudWatch metrics per feature). Triggered by its EventBridge schedule
 * or on demand (`aws lambda invoke --function-name <prefix>-coverage --payload '{}' out.json`).
 * Thin: it checks the event and environment, wires the adapters, calls readCoverage (accounts spooled
 * to a ReportStore) and publishReport, and fails the invocation when either fails (so the Errors metric sees it).
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StaticEnabledRegions } from '../aws/account-regions.js';
import { SecretsManagerReader } from '../aws/secrets.js';
import { PARTITIONS } from '../config/partitions.js';
import { createCoverageDeps } from '../coverage/aws-deps.js';
import { readCoverage, type AccountSink, type CoverageRun } from '../coverage/build.js';
import type { CoverageDeps, CoverageOptions } from '../coverage/model.js';
import {
  readCoverageEnvironment,
  type CoverageFunctionEnvironment,
} from '../coverage/publish-environment.js';
import { CoveragePublishError } from '../coverage/publish-errors.js';
import { publishReport, type PublishClients, type PublishResult } from '../coverage/publish.js';
import { ReportStore } from '../coverage/report-store.js';
import { createFalconClient } from '../falcon/client.js';
import { parseFalconClientSecret } from '../falcon/credentials.js';
import { invocationBudget } from './shared/budget.js';
import { withDeadline } from './shared/custom-resource.js';
import { functionIdentity, isScheduledEvent, type LambdaContext } from './shared/lambda.js';
import {
  createHandlerLogger,
  logFalconEvent,
  withInvocationLog,
  type HandlerLogger,
} from './shared/logger.js';
import { describeError } from '../shared/describe-error.js';

/** What one run needs besides the environment; `close` ends what must not outlive the run. */
export interface CoverageServices {
  readonly deps: CoverageDeps;
  readonly publish: PublishClients;
  close?(): Promise<void>;
}

export interface CoverageHandlerOptions {
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Builds the adapters; default: AWS SDK clients created once per module and the Falcon HTTP client. */
  readonly services?: (env: CoverageFunctionEnvironment, homeAccountId: string) => Promise<CoverageServices>;
  /** Reads the organization, handing each account to the sink. @default readCoverage */
  readonly read?: (deps: CoverageDeps, options: CoverageOptions, sink: AccountSink) => Promise<CoverageRun>;
  /** Where the accounts' items are spooled. @default the system's temporary directory (Lambda: /tmp) */
  readonly spoolDir?: string;
}

/** What the function returns (and logs). */
export interface CoverageRunSummary {
  readonly trigger: 'schedule' | 'on-demand';
  readonly generatedAt: string;
  readonly allProtected: boolean;
  readonly accounts: number;
  readonly unreadableAccounts: number;
  readonly cells: number;
  readonly keys: PublishResult['keys'];
  readonly metrics: number;
}

interface ModuleClients {
  readonly organizations: OrganizationsClient;
  readonly sts: STSClient;
  readonly s3: S3Client;
  readonly cloudWatch: CloudWatchClient;
  readonly secretsManager: SecretsManagerClient;
  readonly dynamo: DynamoDBDocumentClient;
}

let moduleClients: ModuleClients | undefined;

/**
 * Clients with the SDK's default configuration (region and credentials from the Lambda environment,
 * endpoints from the SDK's own settings such as AWS_ENDPOINT_URL), created once per module.
 */
function clients(): ModuleClients {
  moduleClients ??= {
    organizations: new OrganizationsClient({}),
    sts: new STSClient({}),
    s3: new S3Client({}),
    cloudWatch: new CloudWatchClient({}),
    secretsManager: new SecretsManagerClient({}),
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  };
  return moduleClients;
}

async function defaultServices(
  env: CoverageFunctionEnvironment,
  logger: HandlerLogger,
): Promise<CoverageServices> {
  const c = clients();
  const { settings } = env;
  const secretText = await new SecretsManagerReader(c.secretsManager).getSecretString(env.falconSecretId);
  // The cloud and base URL come from the configuration: a secret given with credentials.source
  // secretsManager holds only the client.
  const { clientId, clientSecret } = parseFalconClientSecret(secretText, env.falconSecretId);
  const falcon = createFalconClient({
    cloud: settings.falcon.cloud,
    ...(settings.falcon.baseUrl ? { baseUrl: settings.falcon.baseUrl } : {}),
    credentials: { clientId, clientSecret },
    onEvent: logFalconEvent(logger),
  });
  const deps = createCoverageDeps({
    partition: settings.partition,
    homeRegion: settings.homeRegion,
    readRoleName: settings.readRoleName,
    ownershipParameterName: settings.ownershipParameterName,
    organizations: c.organizations,
    sts: c.sts,
    falcon,
    ...(env.runsTable ? { runsTable: { doc: c.dynamo, tableName: env.runsTable } } : {}),
    // account:ListRegions is not offered in GovCloud (US), where every region is enabled.
    ...(settings.partition === 'aws-us-gov'
      ? { enabledRegions: new StaticEnabledRegions(PARTITIONS['aws-us-gov'].regions) }
      : {}),
  });
  return {
    deps,
    publish: { s3: c.s3, cloudWatch: c.cloudWatch },
    close: () => falcon.close(),
  };
}

/** Builds the handler; tests inject the environment, adapters and core. */
export function createCoverageHandler(options: CoverageHandlerOptions = {}) {
  const logger = createHandlerLogger('falcon-org-coverage');
  const services = options.services ?? ((env) => defaultServices(env, logger));
  const read = options.read ?? readCoverage;
  return withInvocationLog(
    logger,
    async (event: unknown, context: LambdaContext): Promise<CoverageRunSummary> => {
      const trigger = triggerOf(event);
      const identity = functionIdentity(context);
      const env = readCoverageEnvironment(options.env ?? process.env);
      const { settings } = env;
      const wired = await services(env, identity.accountId);
      // Each account's items go to a spool as they are read: memory holds the cells' summaries only.
      const store = await ReportStore.open(options.spoolDir);
      try {
        const budget = invocationBudget(context).workMs;
        const outcome = await withDeadline(budget, (signal) =>
          read(
            wired.deps,
            {
              scope: {
                partition: settings.partition,
                homeAccountId: identity.accountId,
                homeRegion: settings.homeRegion,
                targets: settings.targets,
                excludeAccounts: settings.excludeAccounts,
              },
              features: settings.features,
              associationName: settings.associationName,
              deploymentId: settings.deploymentId,
              concurrency: settings.concurrency,
              hostStaleAfterHours: settings.hostStaleAfterHours,
              ...(settings.managementAccount !== undefined
                ? { managementAccount: settings.managementAccount }
                : {}),
              signal,
            },
            (result) => store.add(result),
          ),
        );
        if (!outcome.finished) {
          throw new CoveragePublishError(
            `the report was not finished within ${Math.round(budget / 1000)} s; nothing was published (lower coverage.concurrency if accounts throttle, or narrow the scope)`,
          );
        }
        const report = store.summary(outcome.value);
        const published = await publishReport(
          report,
          store,
          {
            bucket: env.bucket,
            namespace: env.metricNamespace,
          },
          wired.publish,
        );
        const summary: CoverageRunSummary = {
          trigger,
          generatedAt: report.generatedAt,
          allProtected: report.allProtected,
          accounts: report.accounts.length,
          unreadableAccounts: report.accounts.filter((a) => !a.readable && a.excluded !== true).length,
          cells: report.cells.length,
          keys: published.keys,
          metrics: published.metrics,
        };
        logger.info('coverage report published', { ...summary, totals: report.totals });
        return summary;
      } catch (error) {
        logger.error('coverage run failed', { trigger, error: describeError(error) });
        throw error;
      } finally {
        await store.close();
        await wired.close?.().catch(() => undefined);
      }
    },
  );
}

/** A scheduled event, or an on-demand invocation with an empty or absent payload. */
function triggerOf(event: unknown): CoverageRunSummary['trigger'] {
  if (isScheduledEvent(event)) return 'schedule';
  if (event === undefined || event === null) return 'on-demand';
  if (typeof event === 'object' && !Array.isArray(event) && Object.keys(event).length === 0)
    return 'on-demand';
  throw new CoveragePublishError(
    'unsupported event: expected an EventBridge scheduled event or an empty payload ({}) for an on-demand run',
  );
}

export const handler = createCoverageHandler();

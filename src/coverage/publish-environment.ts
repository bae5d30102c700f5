import type { CoverageFeature, FeatureRegions } from './model.js';
import { isFalconCloud, type FalconCloud } from '../config/clouds.js';
import { CoveragePublishError } from './publish-errors.js';
import { MANAGEMENT_ACCOUNT_REACHES, type ManagementAccountReach } from '../config/management-account.js';

/**
 * The environment of the scheduled `coverage` function (set by src/infra/features/coverage.ts; read
 * by src/handlers/coverage.ts). Nothing in it is secret: the Falcon credentials are read at run time
 * from the secret named by `FALCON_SECRET_ARN`.
 */
export const COVERAGE_FUNCTION_ENV = {
  /** JSON of `CoverageFunctionSettings`. */
  settings: 'FALCON_ORG_COVERAGE_SETTINGS',
  /** ARN of the secret of the coverage client (falcon.clients.coverage, else falcon.credentials; keys ClientId, ClientSecret). */
  falconSecret: 'FALCON_SECRET_ARN',
  /** Bucket the reports are written to. */
  bucket: 'FALCON_ORG_COVERAGE_BUCKET',
  /** CloudWatch namespace of the metrics. */
  metricNamespace: 'FALCON_ORG_COVERAGE_NAMESPACE',
  /** Runs table of EKS protection; absent when EKS protection is not deployed. */
  runsTable: 'FALCON_ORG_RUNS_TABLE',
} as const;

/** Non-secret settings of the coverage function, derived from the configuration at synth time. */
export interface CoverageFunctionSettings {
  readonly partition: string;
  readonly homeRegion: string;
  /** Root ID or OU IDs whose accounts (nested OUs included) are in scope. */
  readonly targets: readonly string[];
  readonly excludeAccounts: readonly string[];
  /** Reported features and their regions ("enabled": every region enabled for each account). */
  readonly features: Readonly<Partial<Record<CoverageFeature, FeatureRegions>>>;
  /** The Falcon cloud and, when configured, the explicit API base URL (the secret holds only the client). */
  readonly falcon: { readonly cloud: FalconCloud; readonly baseUrl?: string };
  /** SSM association name of this deployment (same in every account and region). */
  readonly associationName: string;
  /** ECR deployment ID the ownership record is kept under. */
  readonly deploymentId: string;
  /** Name of the read-only coverage role in every member account. */
  readonly readRoleName: string;
  /** SSM parameter (home region of each member account) holding the ECR ownership record. */
  readonly ownershipParameterName: string;
  /** Accounts read at once. */
  readonly concurrency: number;
  /** A Falcon host last seen longer ago does not count as protected (`coverage.hostStaleAfterHours`). */
  readonly hostStaleAfterHours: number;
  /** Whether this deployment reaches the organization's management account (absent in settings before it). */
  readonly managementAccount?: ManagementAccountReach;
}

/** What the handler needs, checked. */
export interface CoverageFunctionEnvironment {
  readonly settings: CoverageFunctionSettings;
  readonly falconSecretId: string;
  readonly bucket: string;
  readonly metricNamespace: string;
  readonly runsTable?: string;
}

const FEATURE_KEYS: readonly CoverageFeature[] = ['ssmDistributor', 'ecrConnections', 'eksProtection'];

/** Reads and checks the environment; every problem is reported at once, naming the variable. */
export function readCoverageEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): CoverageFunctionEnvironment {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name]?.trim() ?? '';
    if (value === '') problems.push(`${name} is not set`);
    return value;
  };
  const rawSettings = required(COVERAGE_FUNCTION_ENV.settings);
  const falconSecretId = required(COVERAGE_FUNCTION_ENV.falconSecret);
  const bucket = required(COVERAGE_FUNCTION_ENV.bucket);
  const metricNamespace = required(COVERAGE_FUNCTION_ENV.metricNamespace);
  const runsTable = env[COVERAGE_FUNCTION_ENV.runsTable]?.trim();
  let settings: CoverageFunctionSettings | undefined;
  if (rawSettings !== '') {
    try {
      settings = parseSettings(JSON.parse(rawSettings) as unknown, problems);
    } catch (cause) {
      if (!(cause instanceof SyntaxError)) throw cause;
      problems.push(`${COVERAGE_FUNCTION_ENV.settings} is not valid JSON`);
    }
  }
  if (problems.length > 0 || !settings) {
    throw new CoveragePublishError(`invalid function environment: ${problems.join('; ')}`);
  }
  return {
    settings,
    falconSecretId,
    bucket,
    metricNamespace,
    ...(runsTable ? { runsTable } : {}),
  };
}

function parseSettings(raw: unknown, problems: string[]): CoverageFunctionSettings | undefined {
  const name = COVERAGE_FUNCTION_ENV.settings;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`${name} must be a JSON object`);
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  const before = problems.length;
  const text = (key: string): string => {
    const v = r[key];
    if (typeof v !== 'string' || v === '') problems.push(`${name}.${key} must be a non-empty string`);
    return typeof v === 'string' ? v : '';
  };
  const list = (key: string): string[] => {
    const v = r[key];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      problems.push(`${name}.${key} must be a list of strings`);
      return [];
    }
    return v;
  };
  const partition = text('partition');
  const homeRegion = text('homeRegion');
  const associationName = text('associationName');
  const deploymentId = text('deploymentId');
  const readRoleName = text('readRoleName');
  const ownershipParameterName = text('ownershipParameterName');
  const falcon = parseFalcon(r['falcon'], problems);
  const targets = list('targets');
  if (targets.length === 0 && problems.length === before) problems.push(`${name}.targets must not be empty`);
  const excludeAccounts = list('excludeAccounts');
  const concurrency = r['concurrency'];
  if (
    typeof concurrency !== 'number' ||
    !Number.isInteger(concurrency) ||
    concurrency < 1 ||
    concurrency > 64
  ) {
    problems.push(`${name}.concurrency must be an integer from 1 to 64`);
  }
  const hostStaleAfterHours = r['hostStaleAfterHours'];
  if (
    typeof hostStaleAfterHours !== 'number' ||
    !Number.isInteger(hostStaleAfterHours) ||
    hostStaleAfterHours < 1
  ) {
    problems.push(`${name}.hostStaleAfterHours must be a positive integer (coverage.hostStaleAfterHours)`);
  }
  const managementAccount = MANAGEMENT_ACCOUNT_REACHES.find((m) => m === r['managementAccount']);
  if (r['managementAccount'] !== undefined && managementAccount === undefined) {
    problems.push(`${name}.managementAccount must be one of ${MANAGEMENT_ACCOUNT_REACHES.join(', ')}`);
  }
  const features: Partial<Record<CoverageFeature, FeatureRegions>> = {};
  const rawFeatures = r['features'];
  if (typeof rawFeatures !== 'object' || rawFeatures === null || Array.isArray(rawFeatures)) {
    problems.push(`${name}.features must be an object`);
  } else {
    for (const [key, regions] of Object.entries(rawFeatures as Record<string, unknown>)) {
      const feature = FEATURE_KEYS.find((f) => f === key);
      if (!feature) problems.push(`${name}.features.${key} is not a feature`);
      else if (regions === 'enabled') features[feature] = 'enabled';
      else if (Array.isArray(regions) && regions.length > 0 && regions.every((x) => typeof x === 'string')) {
        features[feature] = regions;
      } else problems.push(`${name}.features.${key} must be "enabled" or a list of regions`);
    }
    if (Object.keys(features).length === 0 && problems.length === before) {
      problems.push(`${name}.features must name at least one feature`);
    }
  }
  if (problems.length > before || !falcon) return undefined;
  return {
    partition,
    homeRegion,
    targets,
    excludeAccounts,
    features,
    falcon,
    associationName,
    deploymentId,
    readRoleName,
    ownershipParameterName,
    concurrency: concurrency as number,
    hostStaleAfterHours: hostStaleAfterHours as number,
    ...(managementAccount !== undefined ? { managementAccount } : {}),
  };
}

function parseFalcon(raw: unknown, problems: string[]): CoverageFunctionSettings['falcon'] | undefined {
  const name = `${COVERAGE_FUNCTION_ENV.settings}.falcon`;
  const r = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : undefined;
  const cloud = r?.['cloud'];
  if (typeof cloud !== 'string' || !isFalconCloud(cloud)) {
    problems.push(`${name}.cloud must be a Falcon cloud (us-1, us-2, eu-1, us-gov-1, us-gov-2)`);
    return undefined;
  }
  const baseUrl = r?.['baseUrl'];
  if (baseUrl !== undefined && (typeof baseUrl !== 'string' || !/^https?:\/\//.test(baseUrl))) {
    problems.push(`${name}.baseUrl must be an http(s) URL`);
    return undefined;
  }
  return { cloud, ...(typeof baseUrl === 'string' ? { baseUrl } : {}) };
}

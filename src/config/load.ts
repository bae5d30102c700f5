import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { falconBaseUrl, isGovCloud } from './clouds.js';
import { FALCON_CLIENT_FEATURES } from './falcon-scopes.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { buildTimeoutMinutes, installWaitMinutes, minimumLockTtlMinutes } from './eks-run-budget.js';
import { problemFromIssue } from './issues.js';
import { PARTITIONS, partitionOfRegion } from './partitions.js';
import { configSchema, type ParsedConfig } from './schema.js';

/** A validated configuration plus the facts derived from it that every consumer needs. */
export interface ResolvedConfig extends ParsedConfig {
  readonly derived: {
    readonly falconBaseUrl: string;
    /** True when a commercial AWS account connects to a government Falcon cloud. */
    readonly govFalconFromCommercialAws: boolean;
    readonly ssmRegions: readonly string[];
    readonly eksRegions: readonly string[];
    /** Empty means: every region enabled for the account, found at run time. */
    readonly ecrRegions: readonly string[];
    /** Regions whose ECR image actions are forwarded to the catalog's queue. */
    readonly catalogEventRegions: readonly string[];
  };
}

/** Reads, parses and validates a YAML or JSON configuration file. Throws ConfigError listing every problem. */
export async function loadConfigFile(path: string): Promise<ResolvedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const reason =
      (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : String(cause);
    throw new ConfigError(
      path,
      [{ path: '--config', expected: 'expected a readable YAML or JSON file', given: reason }],
      {
        cause,
      },
    );
  }
  return parseConfigText(text, path);
}

/** Parses YAML (JSON is YAML) text and validates it. `source` names the input in messages. */
export function parseConfigText(text: string, source: string): ResolvedConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}` : '',
        expected: 'expected valid YAML or JSON (fix the syntax at that line)',
        given: e.message.split('\n')[0] ?? e.code,
      })),
    );
  }
  return validateConfig(doc.toJS() as unknown, source);
}

/**
 * Validates an already-parsed value. Schema problems and cross-field problems (regions outside the
 * partition, ARNs of another partition, …) are collected together and thrown as one ConfigError.
 */
export function validateConfig(raw: unknown, source = 'configuration'): ResolvedConfig {
  const result = configSchema.safeParse(raw ?? {}, { reportInput: true });
  const problems = result.success ? [] : result.error.issues.map(problemFromIssue);
  problems.push(...crossFieldProblems(raw));
  if (result.success) problems.push(...parsedProblems(result.data));
  if (problems.length > 0 || !result.success) throw new ConfigError(source, problems);
  return resolve(result.data);
}

/** Reads a string at a path of an unvalidated value, or undefined. */
function stringAt(value: unknown, ...path: string[]): string | undefined {
  let node: unknown = value;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'string' ? node : undefined;
}

/**
 * Checks that need more than one field. They read the raw input defensively so they can run even
 * when the schema found problems elsewhere; a field the schema rejects is skipped here.
 */
function crossFieldProblems(raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const partitionName = stringAt(raw, 'aws', 'partition');
  if (partitionName !== 'aws' && partitionName !== 'aws-us-gov') return problems;
  const partition = PARTITIONS[partitionName];
  const inPartition = (path: string, region: unknown) => {
    if (typeof region !== 'string') return;
    const actual = partitionOfRegion(region);
    if (actual !== undefined && actual !== partition.name) {
      problems.push({
        path,
        expected: `expected a region of the ${partition.label} partition "${partition.name}" (aws.partition)`,
        given: JSON.stringify(region),
      });
    }
  };
  inPartition('aws.homeRegion', stringAt(raw, 'aws', 'homeRegion'));
  const features = (raw as { features?: Record<string, { regions?: unknown }> } | undefined)?.features;
  for (const [name, feature] of Object.entries(features ?? {})) {
    const regions = feature?.regions;
    if (Array.isArray(regions))
      regions.forEach((r: unknown, i) => inPartition(`features.${name}.regions.${i}`, r));
  }
  const catalogRegions = (raw as { catalog?: { ecrEvents?: { regions?: unknown } } } | undefined)?.catalog
    ?.ecrEvents?.regions;
  if (Array.isArray(catalogRegions)) {
    catalogRegions.forEach((r: unknown, i) => inPartition(`catalog.ecrEvents.regions.${i}`, r));
  }
  const arnInPartition = (path: string, arn: string | undefined) => {
    if (arn?.startsWith('arn:') && !arn.startsWith(`arn:${partition.name}:`)) {
      problems.push({
        path,
        expected: `expected an ARN in partition "${partition.name}" (aws.partition)`,
        given: JSON.stringify(arn),
      });
    }
  };
  // The shared client and each feature's own client: same rules for every secret.
  const clientSecrets: [string, string | undefined][] = [
    ['falcon.credentials.secretArn', stringAt(raw, 'falcon', 'credentials', 'secretArn')],
    ...FALCON_CLIENT_FEATURES.map((f): [string, string | undefined] => [
      `falcon.clients.${f}.secretArn`,
      stringAt(raw, 'falcon', 'clients', f, 'secretArn'),
    ]),
  ];
  for (const [path, arn] of clientSecrets) arnInPartition(path, arn);
  arnInPartition('permissionsBoundary', stringAt(raw, 'permissionsBoundary'));
  const readers = (raw as { coverage?: { readerRoleArns?: unknown } } | undefined)?.coverage?.readerRoleArns;
  if (Array.isArray(readers)) {
    readers.forEach((arn: unknown, i) => {
      if (typeof arn === 'string') arnInPartition(`coverage.readerRoleArns.${i}`, arn);
    });
  }
  // CloudFormation resolves the dynamic references to the secrets in the home region.
  const homeRegion = stringAt(raw, 'aws', 'homeRegion');
  for (const [path, arn] of clientSecrets) {
    const secretRegion = arn?.split(':')[3];
    if (secretRegion !== undefined && homeRegion !== undefined && secretRegion !== homeRegion) {
      problems.push({
        path,
        expected: `expected a secret in the home region ${JSON.stringify(homeRegion)} (aws.homeRegion); replicate the secret there and use the replica's ARN`,
        given: `a secret in ${JSON.stringify(secretRegion)}`,
      });
    }
  }
  const schedule = stringAt(raw, 'features', 'ssmDistributor', 'schedule');
  const applyOnlyAtCron = (raw as { features?: { ssmDistributor?: { applyOnlyAtCronInterval?: unknown } } })
    ?.features?.ssmDistributor?.applyOnlyAtCronInterval;
  if (applyOnlyAtCron === true && !(schedule ?? '').startsWith('cron(')) {
    problems.push({
      path: 'features.ssmDistributor.applyOnlyAtCronInterval',
      expected:
        'expected false unless the schedule is a cron expression (State Manager rejects it with rate()); set a cron() schedule or remove applyOnlyAtCronInterval',
      given: `true with schedule ${JSON.stringify(schedule ?? 'rate(1 day)')}`,
    });
  }
  // An organization trail a delegated administrator creates belongs to the management account, so
  // the trail bucket's policy, written in the deploying account, could not name it.
  const createTrail = (raw as { features?: { eksProtection?: { createOrganizationTrail?: unknown } } })
    ?.features?.eksProtection?.createOrganizationTrail;
  if (createTrail === true && stringAt(raw, 'aws', 'accountType') === 'delegatedAdmin') {
    problems.push({
      path: 'features.eksProtection.createOrganizationTrail',
      expected:
        'expected false when aws.accountType is "delegatedAdmin" (an organization trail created by a delegated administrator belongs to the management account); create the trail from the management account, or remove the setting if one already logs management events',
      given: 'true',
    });
  }
  return problems;
}

/** Checks over defaulted values (a default on one side can conflict with a setting on the other). */
function parsedProblems(config: ParsedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const eks = config.features.eksProtection;
  if (config.catalog.ecrEvents.enabled && !eks.enabled) {
    problems.push({
      path: 'catalog.ecrEvents.enabled',
      expected:
        "expected false unless features.eksProtection.enabled is true: ECR image actions travel over EKS Protection's central event bus; enable EKS Protection or remove the setting",
      given: 'true',
    });
  }
  const minimum = minimumLockTtlMinutes(eks.deployer.deadlines);
  if (!eks.enabled || eks.lockTtlMinutes >= minimum) return problems;
  return [
    ...problems,
    {
      path: 'features.eksProtection.lockTtlMinutes',
      expected: `expected at least ${minimum}: a run's build (lock minus 15 minutes) must hold the deployer's waits (features.eksProtection.deployer.deadlines, ${installWaitMinutes(eks.deployer.deadlines)} minutes one after the other) and its work, or a second run could start while the first still works; raise lockTtlMinutes or shorten the deadlines`,
      given: `${eks.lockTtlMinutes} (a build of ${buildTimeoutMinutes(eks.lockTtlMinutes)} minutes)`,
    },
  ];
}

function resolve(config: ParsedConfig): ResolvedConfig {
  const home = [config.aws.homeRegion];
  const { features } = config;
  return {
    ...config,
    derived: {
      falconBaseUrl: (config.falcon.baseUrl ?? falconBaseUrl(config.falcon.cloud)).replace(/\/+$/, ''),
      govFalconFromCommercialAws: isGovCloud(config.falcon.cloud) && config.aws.partition === 'aws',
      ssmRegions: features.ssmDistributor.regions ?? home,
      eksRegions: features.eksProtection.regions ?? home,
      ecrRegions: features.ecrConnections.regions ?? [],
      catalogEventRegions: config.catalog.ecrEvents.regions ?? features.ecrConnections.regions ?? home,
    },
  };
}

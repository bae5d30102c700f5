import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { falconBaseUrl, isGovCloud } from './clouds.js';
import { ConfigError, type ConfigProblem } from './errors.js';
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
      [{ path: '--config', expected: 'a readable YAML or JSON file', given: reason }],
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
        expected: 'valid YAML or JSON',
        given: e.message.split('\n')[0] ?? e.code,
      })),
    );
  }
  return validateConfig(doc.toJS() as unknown, source);
}

/** Validates an already-parsed value; collects schema and cross-field problems and throws them together. */
export function validateConfig(raw: unknown, source = 'configuration'): ResolvedConfig {
  const result = configSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) throw new ConfigError(source, result.error.issues.map(toProblem));
  const problems = crossFieldProblems(result.data);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return resolve(result.data);
}

function toProblem(issue: z.core.$ZodIssue): ConfigProblem {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return {
      path,
      expected: 'only known settings (check the spelling against the configuration reference in README.md)',
      given: `unknown ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
    };
  }
  const expected = issue.message.startsWith('expected')
    ? issue.message
    : `expected ${issue.message.replace(/^Invalid input: expected /i, '').replace(/^Invalid input/i, 'a valid value')}`;
  return { path, expected, given: describeGiven(issue.input) };
}

function describeGiven(input: unknown): string {
  if (input === undefined) return 'nothing';
  const text = JSON.stringify(input);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function crossFieldProblems(config: ParsedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const partition = PARTITIONS[config.aws.partition];
  const inPartition = (path: string, region: string) => {
    if (partitionOfRegion(region) !== partition.name) {
      problems.push({
        path,
        expected: `a region of the ${partition.label} partition "${partition.name}"`,
        given: JSON.stringify(region),
      });
    }
  };
  inPartition('aws.homeRegion', config.aws.homeRegion);
  for (const [name, feature] of Object.entries(config.features)) {
    feature.regions?.forEach((r, i) => inPartition(`features.${name}.regions.${i}`, r));
  }
  if (
    config.falcon.credentials.secretArn &&
    !config.falcon.credentials.secretArn.startsWith(`arn:${partition.name}:`)
  ) {
    problems.push({
      path: 'falcon.credentials.secretArn',
      expected: `an ARN in partition "${partition.name}"`,
      given: JSON.stringify(config.falcon.credentials.secretArn),
    });
  }
  const boundary = config.permissionsBoundary;
  if (boundary?.startsWith('arn:') && !boundary.startsWith(`arn:${partition.name}:`)) {
    problems.push({
      path: 'permissionsBoundary',
      expected: `a policy ARN in partition "${partition.name}"`,
      given: JSON.stringify(boundary),
    });
  }
  const ssm = config.features.ssmDistributor;
  if (ssm.applyOnlyAtCronInterval && !ssm.schedule.startsWith('cron(')) {
    problems.push({
      path: 'features.ssmDistributor.applyOnlyAtCronInterval',
      expected: 'false unless the schedule is a cron expression (State Manager rejects it with rate())',
      given: 'true',
    });
  }
  return problems;
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
    },
  };
}

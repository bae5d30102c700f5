import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ResolvedConfig } from '../config/load.js';
import type { CoverageDeps, CoverageReport } from '../coverage/model.js';
import type { LatestReport } from '../coverage/latest.js';
import type { CoverageFunctionSettings } from '../coverage/publish-environment.js';
import type { StatusRequest } from '../coverage/options.js';
import { ExitCode, ExitStatus } from './exit.js';
import type { Output } from './output.js';

export interface StatusOptions {
  readonly config: string;
  readonly json?: boolean;
  readonly html?: string;
  readonly feature?: readonly string[];
  readonly account?: readonly string[];
  readonly runsTable?: string;
  /** Print the last report the scheduled coverage function stored instead of reading the organization. */
  readonly latest?: boolean;
  /** With `latest`: the report bucket (default: found through the stack's SSM parameter). */
  readonly bucket?: string;
}

/** What `status` reads the world through; tests give their own. */
export interface StatusWiring {
  readonly loadConfig: (path: string) => Promise<ResolvedConfig>;
  readonly settingsFor: (config: ResolvedConfig) => Promise<CoverageFunctionSettings>;
  readonly createDeps: (
    config: ResolvedConfig,
    settings: CoverageFunctionSettings,
    request: StatusRequest,
  ) => Promise<{ deps: CoverageDeps; close: () => Promise<void> }>;
  readonly writeFile: (path: string, text: string) => Promise<void>;
  /** Colour the table (stdout is a terminal and NO_COLOR is unset). */
  readonly color: boolean;
  /** `--latest`: reads the stored report. @default loadLatestReportFor (home region, SDK default credentials) */
  readonly loadLatest?: (config: ResolvedConfig, bucket?: string) => Promise<LatestReport>;
}

const collect = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== ''),
];

export function registerStatus(program: Command, output: Output): void {
  program
    .command('status')
    .description(
      'Show what is protected where and why: accounts × regions per feature (exit 0 all protected, 3 something is not, 1 failure, 2 bad input)',
    )
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--json', 'print the report as one JSON document (schema: README "Coverage")')
    .option('--html <file>', 'also write a self-contained HTML heatmap to this file')
    .option(
      '--feature <name...>',
      'only these features (ssmDistributor, eksProtection, ecrConnections)',
      collect,
    )
    .option('--account <id...>', 'only these accounts (12-digit IDs)', collect)
    .option('--runs-table <name>', 'the EKS runs table (root stack output) for cluster results')
    .option(
      '--latest',
      'print the last report the scheduled coverage function stored (coverage.enabled), without reading the organization',
    )
    .option(
      '--bucket <name>',
      'with --latest: the report bucket (default: from SSM /<resourcePrefix>/coverage/report-bucket)',
    )
    .action(async (opts: StatusOptions) => {
      await runStatus(opts, output, defaultWiring());
    });
}

/** Builds, prints and writes the report; ends with ExitStatus 3 when something in scope is not protected. */
export async function runStatus(
  opts: StatusOptions,
  output: Output,
  wiring: StatusWiring,
): Promise<CoverageReport> {
  const { coverageOptionsFor } = await import('../coverage/options.js');
  const { CoverageInputError } = await import('../coverage/errors.js');
  const { UserInputError } = await import('../config/errors.js');
  const config = await wiring.loadConfig(opts.config);
  let report: CoverageReport;
  if (opts.latest) {
    report = await storedReport(opts, config, output, wiring);
  } else {
    const settings = await wiring.settingsFor(config);
    const request: StatusRequest = {
      ...(opts.feature !== undefined ? { features: opts.feature } : {}),
      ...(opts.account !== undefined ? { accounts: opts.account } : {}),
      ...(opts.runsTable !== undefined ? { runsTable: opts.runsTable } : {}),
    };
    const options = coverageOptionsFor(settings, request);
    // Only now, with the arguments checked, load what reads the organization (the AWS SDK clients).
    const { buildCoverageReport } = await import('../coverage/build.js');
    const { deps, close } = await wiring.createDeps(config, settings, request);
    try {
      if (!opts.json) output.err(`reading ${options.scope.targets.join(', ')} ...`);
      report = await buildCoverageReport(deps, options);
    } catch (error) {
      if (error instanceof CoverageInputError) throw new UserInputError(error.message, { cause: error });
      throw error;
    } finally {
      await close();
    }
  }
  if (opts.html !== undefined) {
    const { renderHtmlReport } = await import('../coverage/html.js');
    await wiring.writeFile(opts.html, renderHtmlReport(report));
    if (!opts.json) output.err(`wrote ${opts.html}`);
  }
  if (opts.json) {
    output.out(JSON.stringify(report, null, 2));
  } else {
    const { renderTerminal } = await import('../coverage/render-terminal.js');
    output.out(renderTerminal(report, { color: wiring.color }));
  }
  if (!report.allProtected) {
    const gaps = report.cells.filter((c) => c.state !== 'protected' && c.state !== 'not-applicable').length;
    throw new ExitStatus(
      `${gaps} of ${report.cells.length} cell(s) are not protected`,
      ExitCode.NotProtected,
    );
  }
  return report;
}

/** The real wiring; each piece is loaded when it is used, so bad arguments are answered before the SDK loads. */
function defaultWiring(): StatusWiring {
  return {
    loadConfig: async (path) => (await import('../config/load.js')).loadConfigFile(path),
    settingsFor: async (config) => (await import('../coverage/settings.js')).coverageSettings(config),
    createDeps: async (config, settings, request) =>
      (await import('../coverage/from-config.js')).createCoverageDepsFor(
        config,
        settings,
        request,
        process.env,
      ),
    writeFile: (path, text) => writeFile(path, text, 'utf8'),
    color: Boolean(process.stdout.isTTY) && process.env.NO_COLOR === undefined,
  };
}

/** `--latest`: the stored report, narrowed by --feature / --account (bad input when it does not hold them). */
async function storedReport(
  opts: StatusOptions,
  config: ResolvedConfig,
  output: Output,
  wiring: StatusWiring,
): Promise<CoverageReport> {
  const { loadLatestReportFor, narrowReport } = await import('../coverage/latest.js');
  const { CoverageInputError } = await import('../coverage/errors.js');
  const { UserInputError } = await import('../config/errors.js');
  const load =
    wiring.loadLatest ??
    ((c: ResolvedConfig, bucket?: string) => loadLatestReportFor(c, bucket ? { bucket } : {}));
  const latest = await load(config, opts.bucket);
  if (!opts.json)
    output.err(`stored report of ${latest.report.generatedAt} from s3://${latest.bucket}/${latest.key}`);
  try {
    return narrowReport(latest.report, {
      ...(opts.feature !== undefined ? { features: opts.feature } : {}),
      ...(opts.account !== undefined ? { accounts: opts.account } : {}),
    });
  } catch (error) {
    if (error instanceof CoverageInputError) throw new UserInputError(error.message, { cause: error });
    throw error;
  }
}

import type { Command } from 'commander';
import type { ResolvedConfig } from '../config/load.js';
import type { CoverageDeps, CoverageSummary } from '../coverage/model.js';
import type { LatestReport } from '../coverage/latest.js';
import type { DetailsSource } from '../coverage/report-store.js';
import type { CoverageFunctionSettings } from '../coverage/publish-environment.js';
import type { StatusRequest } from '../coverage/options.js';
import type { FileSink } from '../coverage/file-sink.js';
import { ExitCode, ExitStatus } from './exit.js';
import type { Output } from '../shared/output.js';

export interface StatusOptions {
  readonly config: string;
  readonly json?: boolean;
  readonly html?: string;
  readonly feature?: readonly string[];
  readonly account?: readonly string[];
  readonly runsTable?: string;
  /** Print the last report the scheduled coverage function stored instead of reading the organization. */
  readonly latest?: boolean;
  /** With `latest`: the report bucket (default: found through the root stack or the stack's SSM parameter). */
  readonly bucket?: string;
  /** The full table on the terminal, whatever the number of accounts. */
  readonly full?: boolean;
}

export type { FileSink } from '../coverage/file-sink.js';

/** What `status` reads the world through; tests give their own. */
export interface StatusWiring {
  readonly loadConfig: (path: string) => Promise<ResolvedConfig>;
  readonly settingsFor: (config: ResolvedConfig) => Promise<CoverageFunctionSettings>;
  readonly createDeps: (
    config: ResolvedConfig,
    settings: CoverageFunctionSettings,
    request: StatusRequest,
  ) => Promise<{ deps: CoverageDeps; close: () => Promise<void> }>;
  readonly openFile: (path: string) => Promise<FileSink>;
  /** Colour the table (stdout is a terminal and NO_COLOR is unset). */
  readonly color: boolean;
  /** `--latest`: reads the stored report. @default loadLatestReportFor (home region, SDK default credentials) */
  readonly loadLatest?: (
    config: ResolvedConfig,
    bucket: string | undefined,
    accounts: readonly string[],
  ) => Promise<LatestReport>;
  /** Where the accounts' items are spooled while the report is read. @default the system's temporary directory */
  readonly spoolDir?: string;
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
    .option(
      '--json',
      'print the report as one JSON document, every cell with its items (schema: README "Coverage")',
    )
    .option(
      '--html <file>',
      'also write a self-contained HTML heatmap to this file (with --json: from the same read)',
    )
    .option('--full', 'the full accounts × regions table on the terminal, however many accounts')
    .option(
      '--feature <name...>',
      'only these features (ssmDistributor, eksProtection, ecrConnections)',
      collect,
    )
    .option('--account <id...>', 'only these accounts (12-digit IDs)', collect)
    .option(
      '--runs-table <name>',
      'the EKS runs table for cluster results (default: the root stack output EksRunsTable)',
    )
    .option(
      '--latest',
      'print the last report the scheduled coverage function stored (coverage.enabled), without reading the organization',
    )
    .option(
      '--bucket <name>',
      'with --latest: the report bucket (default: the root stack output CoverageReportBucket, else SSM /<resourcePrefix>/coverage/report-bucket)',
    )
    .action(async (opts: StatusOptions) => {
      await runStatus(opts, output, defaultWiring());
    });
}

/**
 * Reads the organization once (or the stored report with `--latest`), then writes what was asked from
 * that one read: the heatmap file, the JSON document or the terminal table. Each account's items are
 * spooled as they are read and written out one account at a time. Ends with ExitStatus 3 when
 * something in scope is not protected.
 */
export async function runStatus(
  opts: StatusOptions,
  output: Output,
  wiring: StatusWiring,
): Promise<CoverageSummary> {
  const { coverageOptionsFor } = await import('../coverage/options.js');
  const { CoverageInputError } = await import('../coverage/errors.js');
  const { UserInputError } = await import('../config/errors.js');
  const config = await wiring.loadConfig(opts.config);
  let summary: CoverageSummary;
  let details: DetailsSource | undefined;
  let release = (): Promise<void> => Promise.resolve();
  try {
    if (opts.latest) {
      ({ summary, details } = await storedReport(opts, config, output, wiring));
    } else {
      const settings = await wiring.settingsFor(config);
      const request: StatusRequest = {
        ...(opts.feature !== undefined ? { features: opts.feature } : {}),
        ...(opts.account !== undefined ? { accounts: opts.account } : {}),
        ...(opts.runsTable !== undefined ? { runsTable: opts.runsTable } : {}),
      };
      const options = coverageOptionsFor(settings, request);
      // Only now, with the arguments checked, load what reads the organization (the AWS SDK clients).
      const { readCoverage } = await import('../coverage/build.js');
      const { ReportStore } = await import('../coverage/report-store.js');
      const { deps, close } = await wiring.createDeps(config, settings, request);
      const store = await ReportStore.open(wiring.spoolDir);
      release = () => store.close();
      try {
        if (!opts.json) output.err(`reading ${options.scope.targets.join(', ')} ...`);
        let done = 0;
        const run = await readCoverage(deps, options, async (result) => {
          await store.add(result);
          done += 1;
          if (done % 100 === 0) output.err(`${done} accounts read ...`);
        });
        summary = store.summary(run);
        details = store;
      } catch (error) {
        if (error instanceof CoverageInputError) throw new UserInputError(error.message, { cause: error });
        throw error;
      } finally {
        await close();
      }
    }
    if (opts.html !== undefined) {
      const { writeHtmlReport } = await import('../coverage/html.js');
      const file = await wiring.openFile(opts.html);
      try {
        await writeHtmlReport(summary, details, (chunk) => file.write(chunk));
      } finally {
        await file.close();
      }
      if (!opts.json) output.err(`wrote ${opts.html}`);
    }
    if (opts.json) {
      const { writeReportJson } = await import('../coverage/report-json.js');
      await writeReportJson(summary, details, async (chunk) => {
        output.out(chunk);
        await output.drain?.();
      });
    } else {
      const { renderTerminal } = await import('../coverage/render-terminal.js');
      output.out(renderTerminal(summary, { color: wiring.color, full: opts.full === true }));
    }
  } finally {
    await release();
  }
  if (!summary.allProtected) {
    const gaps = summary.cells.filter((c) => c.state !== 'protected' && c.state !== 'not-applicable').length;
    throw new ExitStatus(
      `${gaps} of ${summary.cells.length} cell(s) are not protected`,
      ExitCode.NotProtected,
    );
  }
  return summary;
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
    openFile: async (path) => (await import('../coverage/file-sink.js')).fileSink(path),
    color: Boolean(process.stdout.isTTY) && process.env.NO_COLOR === undefined,
  };
}

/** `--latest`: the stored report, narrowed by --feature / --account (bad input when it does not hold them). */
async function storedReport(
  opts: StatusOptions,
  config: ResolvedConfig,
  output: Output,
  wiring: StatusWiring,
): Promise<{ summary: CoverageSummary; details?: DetailsSource }> {
  const { loadLatestReportFor, narrowReport } = await import('../coverage/latest.js');
  const { CoverageInputError } = await import('../coverage/errors.js');
  const { UserInputError } = await import('../config/errors.js');
  const accounts = opts.account ?? [];
  const load =
    wiring.loadLatest ??
    ((c: ResolvedConfig, bucket: string | undefined, wanted: readonly string[]) =>
      loadLatestReportFor(c, { ...(bucket ? { bucket } : {}), accounts: wanted }));
  const latest = await load(config, opts.bucket, accounts);
  if (!opts.json)
    output.err(`stored report of ${latest.report.generatedAt} from s3://${latest.bucket}/${latest.key}`);
  try {
    return {
      summary: narrowReport(latest.report, {
        ...(opts.feature !== undefined ? { features: opts.feature } : {}),
        ...(opts.account !== undefined ? { accounts: opts.account } : {}),
      }),
      ...(latest.details !== undefined ? { details: latest.details } : {}),
    };
  } catch (error) {
    if (error instanceof CoverageInputError) throw new UserInputError(error.message, { cause: error });
    throw error;
  }
}

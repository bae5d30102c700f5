import { createServer } from 'node:http';
import type { Command } from 'commander';
import { CatalogInputError } from '../catalog/errors.js';
import { EventListener } from '../catalog/events/listener.js';
import type { RegistryProbe } from '../catalog/events/probe.js';
import { describeStoreLocation, openCatalogStore, resolveStoreLocation } from '../catalog/store/open.js';
import { ExitCode, ExitStatus } from './exit.js';
import {
  commandLog,
  integerOption,
  repositoryOptions,
  withRepositoryOptions,
  withStoreOption,
  type RepositoryOptions,
} from './catalog-options.js';
import { createRegistryProbe } from './catalog-source.js';
import type { Output } from '../shared/output.js';

/** Environment variable holding the bearer token the registry sends; never taken from the command line. */
export const LISTEN_TOKEN_ENV = 'FALCON_ORG_LISTEN_TOKEN';
const MIN_TOKEN_LENGTH = 16;

interface ListenOptions extends RepositoryOptions {
  registry: string;
  port: number;
  host: string;
  path: string;
  queueSize: number;
  store?: string;
  json?: boolean;
}

/** Builds the probe for the registry whose events are applied; injectable for tests. */
export type ProbeFactory = (
  registry: string,
  env: NodeJS.ProcessEnv,
) => Promise<RegistryProbe & { close?(): void }>;

const ociProbe: ProbeFactory = async (registry, env) => {
  if (!/^https?:\/\//i.test(registry)) {
    throw new CatalogInputError(
      `--registry must be the http(s):// URL of a distribution registry (ECR events come through \`catalog follow\`), got "${registry}"`,
    );
  }
  return createRegistryProbe(registry, env);
};

export function registerCatalogListen(
  catalog: Command,
  output: Output,
  createProbe: ProbeFactory = ociProbe,
): void {
  withStoreOption(
    withRepositoryOptions(catalog.command('listen'))
      .description(
        "Keep a registry's catalog current from its own notifications: serve the endpoint its notifications.endpoints posts to",
      )
      .requiredOption(
        '--registry <url>',
        'the registry that posts here, as `catalog scan` names it (http(s)://host[:port]); lookups go there',
      )
      .option('--port <n>', 'TCP port (0: any free port)', integerOption('--port', 0, 65_535), 8900)
      .option(
        '--host <address>',
        'address to listen on (put a TLS proxy in front for other hosts)',
        '127.0.0.1',
      )
      .option('--path <path>', 'URL path the registry posts to', '/events')
      .option(
        '--queue-size <n>',
        'events held before requests get 503',
        integerOption('--queue-size', 1, 1_000_000),
        10_000,
      )
      .option('--json', 'log one JSON object per line on stdout')
      .addHelpText(
        'after',
        `\nThe bearer token the registry sends is read from ${LISTEN_TOKEN_ENV} (at least ${MIN_TOKEN_LENGTH} characters; never\nfrom the command line). Registry credentials for lookups: FALCON_ORG_REGISTRY_USERNAME / _PASSWORD.\nRuns until SIGINT or SIGTERM, then applies what is queued (up to 10 s).`,
      ),
  ).action(async (opts: ListenOptions) => {
    const token = process.env[LISTEN_TOKEN_ENV] ?? '';
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new CatalogInputError(
        `set ${LISTEN_TOKEN_ENV} to the bearer token the registry sends (at least ${MIN_TOKEN_LENGTH} characters; the registry's notifications.endpoints[].headers.Authorization is "Bearer <token>")`,
      );
    }
    if (!opts.path.startsWith('/'))
      throw new CatalogInputError(`--path must start with "/", got "${opts.path}"`);
    const location = resolveStoreLocation(opts.store);
    const probe = await createProbe(opts.registry, process.env);
    const log = commandLog(output, opts.json === true);
    const store = await openCatalogStore(location);
    const listener = new EventListener({
      probe,
      store,
      token,
      path: opts.path,
      queueSize: opts.queueSize,
      apply: repositoryOptions(opts),
      log,
    });
    const server = createServer(listener.handle);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, opts.host, () => resolve());
      });
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : opts.port;
      const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}${opts.path}`;
      listener.start();
      const where = describeStoreLocation(location);
      if (opts.json)
        log({ level: 'info', message: 'listening', url, registry: probe.registry, store: where });
      else output.out(`Listening on ${url} for ${probe.registry} (store ${where})`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const left = await listener.stop();
      const stats = listener.stats();
      log({
        level: 'info',
        message: `stopped: ${stats.handled} events handled, ${stats.rejected} rejected`,
        ...stats,
      });
      if (left > 0) {
        throw new ExitStatus(
          `${left} events were accepted but not applied; they are kept in the store and applied when \`catalog listen\` starts again (or run \`falcon-org catalog scan ${probe.registry}\` to reconcile now)`,
          ExitCode.Failure,
        );
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new CatalogInputError(
          `port ${opts.port} on ${opts.host} is already in use; choose another --port`,
          {
            cause: error,
          },
        );
      }
      throw error;
    } finally {
      server.close();
      await store.close();
      probe.close?.();
    }
  });
}

import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

import { freePort } from './free-port.js';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';
/** PostgreSQL refuses to run as root; the cluster runs as this OS user. */
const OS_USER = 'postgres';

export interface PostgresService {
  /** Connection URL of a fresh database created for the caller. */
  readonly url: string;
  /** Creates another empty database and returns its URL (for tests that need isolation). */
  createDatabase(name: string): Promise<string>;
  /** Shuts the server down (connections refused) without deleting anything; `resume` starts it again. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

async function asPostgres(command: string, args: readonly string[]): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  if (isRoot) await run('runuser', ['-u', OS_USER, '--', join(BIN, command), ...args]);
  else await run(join(BIN, command), [...args]);
}

/**
 * Starts a throwaway PostgreSQL 15 cluster in a temp dir on a free loopback port (as the `postgres`
 * OS user when running as root), waits until it accepts connections and creates one database.
 */
export async function startPostgres(database = 'catalog'): Promise<PostgresService> {
  const dir = await mkdtemp(join(tmpdir(), 'falcon-org-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', OS_USER]);
    const { stdout: gid } = await run('id', ['-g', OS_USER]);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await asPostgres('initdb', [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  let port = 0;
  let lastError: unknown;
  const start = () =>
    asPostgres('pg_ctl', [
      'start',
      '-w',
      '-t',
      '60',
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
    ]);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    port = await freePort();
    try {
      await start();
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error; // most likely the port was taken in between: try another
    }
  }
  if (lastError !== undefined) {
    await rm(dir, { recursive: true, force: true });
    throw new Error('could not start PostgreSQL', { cause: lastError });
  }
  const base = `postgres://postgres@127.0.0.1:${port}`;
  const createDatabase = async (name: string): Promise<string> => {
    const admin = new pg.Client({ connectionString: `${base}/postgres` });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
    } finally {
      await admin.end();
    }
    return `${base}/${name}`;
  };
  const url = await createDatabase(database);
  let stopped = false;
  return {
    url,
    createDatabase,
    pause: () => asPostgres('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']),
    resume: start,
    async stop() {
      if (stopped) return;
      stopped = true;
      await asPostgres('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

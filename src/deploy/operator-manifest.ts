import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { configManifestSource } from '../cluster/from-config.js';
import { parseOperatorManifest, sha256Hex } from '../cluster/manifest.js';
import { UserInputError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import { DEPLOYER_PREFIX, operatorManifestKey } from '../infra/artifact-bucket.js';
import { OperatorManifestChecksumError } from './errors.js';

const SHA_SETTING = 'features.eksProtection.deployer.operator.manifestSha256';

/** The checked operator manifest, staged in a directory of its own for the artifact bucket. */
export interface StagedOperatorManifest {
  /** Holds `operator/<version>/falcon-operator.yaml`; pass it as `operatorManifestDir`. */
  readonly dir: string;
  /** The key it is uploaded to (`operatorManifestKey`). */
  readonly key: string;
  /** The file or URL it came from. */
  readonly source: string;
  readonly bytes: number;
  /** Removes the staging directory (after the deploy or synth used it). */
  cleanup(): Promise<void>;
}

export interface StageOptions {
  /** `--operator-manifest FILE`: a local copy, preferred over the configured file and URL. */
  readonly file?: string;
  /** Fetch the configured release URL when no local copy is given (deploy yes, synth no). */
  readonly allowFetch: boolean;
  readonly fetchImpl?: typeof fetch;
}

/**
 * Gets the pinned Falcon Operator manifest once, when EKS protection is enabled: from `--operator-manifest`,
 * else the configured `manifestFile`, else (when `allowFetch`) one download of the release URL. Checks its
 * SHA-256 against the configuration BEFORE anything else (OperatorManifestChecksumError, exit code 2), then
 * its objects, and writes it to the layout the artifact bucket uploads under `deployer/`. Returns undefined
 * when EKS protection is off, or when there is no local copy and fetching is not allowed.
 */
export async function stageManifestForBuild(
  config: ResolvedConfig,
  options: StageOptions,
): Promise<StagedOperatorManifest | undefined> {
  const eks = config.features.eksProtection;
  if (!eks.enabled) return undefined;
  const operator = eks.deployer.operator;
  const file = options.file ?? operator.manifestFile;
  if (file === undefined && !options.allowFetch) return undefined;
  const { bytes, source } =
    file !== undefined
      ? { bytes: await readLocal(file, options.file !== undefined), source: file }
      : await download(config, options.fetchImpl);
  const actual = sha256Hex(bytes);
  if (actual !== operator.manifestSha256) {
    throw new OperatorManifestChecksumError(
      `the Falcon Operator manifest ${operator.version} from ${source} has SHA-256 ${actual}, but ${SHA_SETTING} expects ${operator.manifestSha256}; nothing was deployed. Use the release's own falcon-operator.yaml, or set ${SHA_SETTING} to the checksum of the release you mean to pin`,
    );
  }
  parseOperatorManifest(bytes, operator.manifestSha256, operator.version);
  const dir = await mkdtemp(join(tmpdir(), 'falcon-org-operator-'));
  const key = operatorManifestKey(operator.version);
  const target = join(dir, key.slice(DEPLOYER_PREFIX.length));
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, bytes);
  return {
    dir,
    key,
    source,
    bytes: bytes.byteLength,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

async function readLocal(file: string, fromFlag: boolean): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    const what = fromFlag ? '--operator-manifest' : 'features.eksProtection.deployer.operator.manifestFile';
    throw new UserInputError(
      `${what}: cannot read ${file} (${error instanceof Error ? error.message : String(error)}); give the path of a downloaded falcon-operator.yaml`,
      { cause: error },
    );
  }
}

async function download(
  config: ResolvedConfig,
  fetchImpl: typeof fetch = fetch,
): Promise<{ bytes: Uint8Array; source: string }> {
  let url = '';
  const recording: typeof fetch = (input, init) => {
    url = input instanceof Request ? input.url : input.toString();
    return fetchImpl(input, init);
  };
  const bytes = await configManifestSource(config, recording).read('', '');
  return { bytes, source: url };
}

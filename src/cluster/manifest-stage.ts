import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ResolvedConfig } from '../config/load.js';
import { configManifestSource } from './from-config.js';
import { parseOperatorManifest } from './manifest.js';

/**
 * For `deploy`: gets the pinned operator manifest once (the configured local file, or one download
 * of the release URL), checks its SHA-256 and object list, and writes it to
 * `<outDir>/operator/<version>/falcon-operator.yaml`, the layout the artifact bucket's `deployer/`
 * prefix takes (`operatorManifestKey`), so deployer runs never need GitHub. Throws ManifestError
 * on a checksum mismatch, before anything is uploaded.
 */
export async function stageOperatorManifest(
  config: ResolvedConfig,
  outDir: string,
  fetchImpl: typeof fetch = fetch,
): Promise<{ readonly file: string; readonly bytes: number; readonly objects: number }> {
  const operator = config.features.eksProtection.deployer.operator;
  const bytes = await configManifestSource(config, fetchImpl).read('', '');
  const objects = parseOperatorManifest(bytes, operator.manifestSha256, operator.version);
  const file = join(outDir, 'operator', operator.version, 'falcon-operator.yaml');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, bytes);
  return { file, bytes: bytes.byteLength, objects: objects.length };
}

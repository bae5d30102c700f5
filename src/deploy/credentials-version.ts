import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ResolvedConfig } from '../config/load.js';
import { clientsInUse } from '../falcon/credentials.js';
import { SecretVersionError } from './errors.js';

/** The staging label Secrets Manager puts on the version it serves by default. */
const CURRENT_STAGE = 'AWSCURRENT';

/**
 * With `falcon.credentials.source: secretsManager`: the version ID of the secret that is current now.
 * `deploy` pins the template's dynamic references to it, so a rotated secret changes the template
 * (and CloudFormation updates every member account's copy) while an unrotated one changes nothing.
 * Reads metadata only (`secretsmanager:DescribeSecret`), never the value. Undefined with `environment`.
 */
export async function currentCredentialsVersion(
  secretsManager: Pick<SecretsManagerClient, 'send'>,
  config: ResolvedConfig,
): Promise<string | undefined> {
  const { credentials } = config.falcon;
  if (credentials.source !== 'secretsManager' || !credentials.secretArn) return undefined;
  return currentVersionOf(secretsManager, credentials.secretArn, 'falcon.credentials');
}

/**
 * The same for the features' own clients (`falcon.clients.<feature>` with source secretsManager) of
 * the deployed features, by secret ARN: a rotated feature client reaches where it is copied too.
 */
export async function currentClientVersions(
  secretsManager: Pick<SecretsManagerClient, 'send'>,
  config: ResolvedConfig,
): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const client of clientsInUse(config)) {
    if (client.shared || client.secretArn === undefined || versions[client.secretArn] !== undefined) continue;
    versions[client.secretArn] = await currentVersionOf(secretsManager, client.secretArn, client.setting);
  }
  return versions;
}

async function currentVersionOf(
  secretsManager: Pick<SecretsManagerClient, 'send'>,
  secretArn: string,
  setting: string,
): Promise<string> {
  let stages: Record<string, string[]> | undefined;
  try {
    const out = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretArn }));
    stages = out.VersionIdsToStages;
  } catch (error) {
    throw new SecretVersionError(
      secretArn,
      error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      { cause: error, setting },
    );
  }
  const current = Object.entries(stages ?? {}).find(([, labels]) => labels.includes(CURRENT_STAGE))?.[0];
  if (!current) {
    throw new SecretVersionError(secretArn, `no version is labelled ${CURRENT_STAGE}`, { setting });
  }
  return current;
}

import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ResolvedConfig } from '../config/load.js';
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
  let stages: Record<string, string[]> | undefined;
  try {
    const out = await secretsManager.send(new DescribeSecretCommand({ SecretId: credentials.secretArn }));
    stages = out.VersionIdsToStages;
  } catch (error) {
    throw new SecretVersionError(
      credentials.secretArn,
      error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      { cause: error },
    );
  }
  const current = Object.entries(stages ?? {}).find(([, labels]) => labels.includes(CURRENT_STAGE))?.[0];
  if (!current)
    throw new SecretVersionError(credentials.secretArn, `no version is labelled ${CURRENT_STAGE}`);
  return current;
}

import { createHash } from 'node:crypto';

/** What a connection's credential is made of (ConnectionSpec's fields). */
export interface CredentialParts {
  readonly roleArn: string;
  readonly externalId: string;
  readonly govUsingCommercialConnection: boolean;
  /** Gov payload (all_repositories_monitored, credential.type); changes the digest only when true. */
  readonly govCloud?: boolean;
}

/**
 * A short, one-way digest of the role ARN and external ID a connection is made with, kept in the
 * ownership record next to the connection ID. Falcon never returns a connection's credential, so this
 * is how a run learns that the stack instance was re-created (CloudFormation generated a new external ID)
 * and the connection must be replaced. The external ID cannot be recovered from it (96 bits of a SHA-256
 * over a 190-bit random value), so the record stays non-secret.
 */
export function credentialFingerprint(parts: CredentialParts): string {
  // The gov marker is appended only when set, so commercial connections keep their digest; gov-side
  // connections made before the gov payload was sent are replaced once (Falcon cannot patch it in).
  const text = JSON.stringify([
    parts.roleArn,
    parts.externalId,
    parts.govUsingCommercialConnection,
    ...(parts.govCloud === true ? ['gov-payload'] : []),
  ]);
  return createHash('sha256').update(`falcon-org ecr credential\n${text}`).digest('hex').slice(0, 24);
}

import { createHash } from 'node:crypto';

/** What a connection's credential is made of (ConnectionSpec's fields). */
export interface CredentialParts {
  readonly roleArn: string;
  readonly externalId: string;
  readonly govUsingCommercialConnection: boolean;
}

/**
 * A short, one-way digest of the role ARN and external ID a connection is made with, kept in the
 * ownership record next to the connection ID. Falcon never returns a connection's credential, so this
 * is how a run learns that the stack instance was re-created (CloudFormation generated a new external ID)
 * and the connection must be replaced. The external ID cannot be recovered from it (96 bits of a SHA-256
 * over a 190-bit random value), so the record stays non-secret.
 */
export function credentialFingerprint(parts: CredentialParts): string {
  const text = JSON.stringify([parts.roleArn, parts.externalId, parts.govUsingCommercialConnection]);
  return createHash('sha256').update(`falcon-org ecr credential\n${text}`).digest('hex').slice(0, 24);
}

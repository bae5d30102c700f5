/**
 * The ECR registry URL Falcon connects to for one account and region, e.g.
 * `https://123456789012.dkr.ecr.us-east-1.amazonaws.com`. (China regions use another domain and are not
 * supported by Falcon's ECR connections.)
 */
export function ecrRegistryUrl(accountId: string, region: string): string {
  return `https://${accountId}.dkr.ecr.${region}.amazonaws.com`;
}

/** The alias this deployment gives its connections: readable in the Falcon console, never used alone as proof of ownership. */
export function connectionAlias(deploymentId: string, accountId: string, region: string): string {
  return `falcon-org ${deploymentId} ${accountId} ${region}`;
}

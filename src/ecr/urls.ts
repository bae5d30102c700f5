/**
 * The ECR registry URL Falcon connects to for one account and region, e.g.
 * `https://123456789012.dkr.ecr.us-east-1.amazonaws.com`. (China regions use another domain and are not
 * supported by Falcon's ECR connections.)
 */
export function ecrRegistryUrl(accountId: string, region: string): string {
  return `https://${accountId}.dkr.ecr.${region}.amazonaws.com`;
}

/**
 * The alias this deployment gives its connections, readable in the Falcon console. It names the deployment,
 * account and region, so a connection carrying it for that account's registry URL in that region was made
 * by this deployment: a wanted region takes such a connection back when its record was removed (and
 * replaces it with the current credential); a disconnect still deletes only what the record names.
 */
export function connectionAlias(deploymentId: string, accountId: string, region: string): string {
  return `falcon-org ${deploymentId} ${accountId} ${region}`;
}

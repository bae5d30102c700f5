import {
  DescribeFargateProfileCommand,
  ListFargateProfilesCommand,
  type EKSClient,
  type FargateProfileSelector,
} from '@aws-sdk/client-eks';

/*
 * On a Fargate-only cluster a pod runs only when a Fargate profile selects its namespace; the
 * operator, its sensors' controllers and the admission controller would otherwise stay Pending
 * forever and the run would only learn it at the operator deadline. This reads the profiles first.
 */

/** The namespaces the operator and the Falcon components run in. */
export function falconNamespaces(admission: boolean): string[] {
  return ['falcon-operator', 'falcon-system', ...(admission ? ['falcon-kac'] : [])];
}

/** EKS namespace selectors may use `*` and `?` wildcards. */
export function namespaceMatches(pattern: string, namespace: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(namespace);
}

/**
 * A selector with pod labels covers only pods carrying them; the operator's pods carry none the
 * deployer can promise, so only label-free selectors count.
 */
function covers(selector: FargateProfileSelector, namespace: string): boolean {
  const labels = selector.labels ?? {};
  return (
    selector.namespace !== undefined &&
    Object.keys(labels).length === 0 &&
    namespaceMatches(selector.namespace, namespace)
  );
}

/** The namespaces of `wanted` no ACTIVE (or CREATING) Fargate profile of the cluster selects. */
export async function uncoveredFargateNamespaces(
  eks: EKSClient,
  cluster: string,
  wanted: readonly string[],
): Promise<string[]> {
  const selectors = await activeFargateSelectors(eks, cluster);
  return wanted.filter((ns) => !selectors.some((s) => covers(s, ns)));
}

/** The selectors of the cluster's ACTIVE (or CREATING) Fargate profiles. */
export async function activeFargateSelectors(
  eks: EKSClient,
  cluster: string,
): Promise<FargateProfileSelector[]> {
  const selectors: FargateProfileSelector[] = [];
  let nextToken: string | undefined;
  do {
    const page = await eks.send(new ListFargateProfilesCommand({ clusterName: cluster, nextToken }));
    for (const name of page.fargateProfileNames ?? []) {
      const profile = (
        await eks.send(new DescribeFargateProfileCommand({ clusterName: cluster, fargateProfileName: name }))
      ).fargateProfile;
      if (profile?.status === 'ACTIVE' || profile?.status === 'CREATING')
        selectors.push(...(profile.selectors ?? []));
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return selectors;
}

/** The run's reason when namespaces are not covered: what is missing and the whole fix command. */
export function fargateCoverageReason(cluster: string, missing: readonly string[]): string {
  const list = missing.join(', ');
  return (
    `no Fargate profile of cluster ${cluster} selects namespace(s) ${list}, so the Falcon operator cannot ` +
    `start on this Fargate-only cluster; nothing was applied. Create a Fargate profile selecting namespaces ` +
    `${list} (without pod labels: aws eks create-fargate-profile --cluster-name ${cluster} ` +
    `--fargate-profile-name falcon --pod-execution-role-arn <the cluster's pod execution role ARN> --selectors ` +
    `${missing.map((ns) => `namespace=${ns}`).join(' ')}), then run again`
  );
}

import type { EKSClient, FargateProfileSelector } from '@aws-sdk/client-eks';
import { FALCON_CONTAINER_INJECTION_LABEL } from '../config/eks-deployer-schema.js';
import { KubeApiError } from './errors.js';
import { activeFargateSelectors, namespaceMatches } from './fargate-coverage.js';
import type { KubeClient } from './kube-client.js';

/*
 * On a mixed cluster (nodes and Fargate) the FalconContainer injector only adds its sidecar in
 * namespaces labelled `sensor.falcon-system.crowdstrike.com/injection=enabled` (the deployer sets
 * `disableDefaultNamespaceInjection`), so that pods on EC2 nodes, which the node sensor covers, do
 * not get a second sensor. Which namespaces run on Fargate is the owner's choice (a Fargate profile
 * selects them), and so is the label: the run does not set it, it looks and records the namespaces a
 * profile selects that lack it, and coverage names them.
 */

/**
 * Namespaces never counted: the control plane's (the injector is not meant for them, and CoreDNS on
 * Fargate runs in kube-system) and Falcon's own.
 */
const NOT_FOR_INJECTION = new Set([
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'falcon-operator',
  'falcon-system',
  'falcon-kac',
  'falcon-iar',
]);

/** Namespaces per list page (the API server's own limit is higher; this keeps each answer small). */
const PAGE_SIZE = 500;

interface NamespaceList {
  readonly items?: readonly { readonly metadata?: { name?: string; labels?: Record<string, string> } }[];
  readonly metadata?: { readonly continue?: string };
}

/**
 * The namespaces an ACTIVE (or CREATING) Fargate profile selects that are not labelled for injection,
 * sorted. A selector with pod labels still puts some of the namespace's pods on Fargate, so it counts.
 */
export async function fargateNamespacesWithoutInjection(
  eks: EKSClient,
  kube: KubeClient,
  cluster: string,
): Promise<string[]> {
  const selectors = await activeFargateSelectors(eks, cluster);
  if (selectors.length === 0) return [];
  const out: string[] = [];
  let token: string | undefined;
  do {
    const path = `/api/v1/namespaces?limit=${PAGE_SIZE}${token !== undefined ? `&continue=${encodeURIComponent(token)}` : ''}`;
    const page = await kube.get<NamespaceList>(path);
    if (page === undefined) throw new KubeApiError(`GET ${path}`, 404, 'namespaces not found');
    for (const ns of page.items ?? []) {
      const name = ns.metadata?.name;
      if (name === undefined || NOT_FOR_INJECTION.has(name)) continue;
      if (ns.metadata?.labels?.[FALCON_CONTAINER_INJECTION_LABEL] === 'enabled') continue;
      if (selectors.some((s) => selects(s, name))) out.push(name);
    }
    token = page.metadata?.continue || undefined;
  } while (token !== undefined);
  return out.sort();
}

function selects(selector: FargateProfileSelector, namespace: string): boolean {
  return selector.namespace !== undefined && namespaceMatches(selector.namespace, namespace);
}

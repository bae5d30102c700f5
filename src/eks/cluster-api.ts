import {
  DescribeClusterCommand,
  ListClustersCommand,
  ListFargateProfilesCommand,
  ListNodegroupsCommand,
  type Cluster,
  type EKSClient,
} from '@aws-sdk/client-eks';

/** What discovery reads from the EKS API of one account and region. */
export interface ClusterApi {
  listClusters(): Promise<string[]>;
  describeCluster(name: string): Promise<Cluster>;
  listNodegroups(cluster: string): Promise<string[]>;
  listFargateProfiles(cluster: string): Promise<string[]>;
}

/** `ClusterApi` over one EKS client (one account, one region); every list follows every page. */
export class SdkClusterApi implements ClusterApi {
  constructor(private readonly eks: EKSClient) {}

  async listClusters(): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.eks.send(new ListClustersCommand({ nextToken, maxResults: 100 }));
      names.push(...(page.clusters ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  async describeCluster(name: string): Promise<Cluster> {
    const out = await this.eks.send(new DescribeClusterCommand({ name }));
    if (!out.cluster) throw new Error(`DescribeCluster answered without a cluster for ${name}`);
    return out.cluster;
  }

  async listNodegroups(cluster: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.eks.send(
        new ListNodegroupsCommand({ clusterName: cluster, nextToken, maxResults: 100 }),
      );
      names.push(...(page.nodegroups ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  async listFargateProfiles(cluster: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.eks.send(
        new ListFargateProfilesCommand({ clusterName: cluster, nextToken, maxResults: 100 }),
      );
      names.push(...(page.fargateProfileNames ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }
}

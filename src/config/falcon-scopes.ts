/*
 * The Falcon API scopes this project asks for, the features that may each have their own API client and
 * which scopes each feature's client needs. Scope names are as the Falcon console shows them when an API
 * client is created (Support and resources › API clients and keys). Pure data: the configuration schema
 * checks clients against it, the Falcon client (src/falcon/scopes.ts) names scopes with it.
 */

export const FalconScope = {
  ContainerImageRead: 'Falcon Container Image: Read',
  ContainerImageWrite: 'Falcon Container Image: Write',
  HostsRead: 'Hosts: Read',
  SensorDownloadRead: 'Sensor Download: Read',
  ImagesDownloadRead: 'Falcon Images Download: Read',
  SensorUpdatePoliciesRead: 'Sensor Update Policies: Read',
} as const;
export type FalconScope = (typeof FalconScope)[keyof typeof FalconScope];

/** Scopes that let a client change the tenant (never needed on a cluster or in a member account's SSM). */
export const WRITE_SCOPES: readonly FalconScope[] = [FalconScope.ContainerImageWrite];

/** The features that call the Falcon API; each may be given its own API client (`falcon.clients.<feature>`). */
export const FALCON_CLIENT_FEATURES = [
  'ssmDistributor',
  'eksProtection',
  'ecrConnections',
  'coverage',
] as const;
export type FalconClientFeature = (typeof FALCON_CLIENT_FEATURES)[number];

/**
 * What each feature's client must be allowed, and nothing more:
 * - ssmDistributor: CrowdStrike's `CrowdStrike-FalconSensorDeploy` automation downloads the sensor and
 *   reads the sensor update policy (CrowdStrike/aws-ssm-distributor README);
 * - eksProtection: the Falcon operator pulls sensor images (falcon-operator v1.13.0
 *   docs/deployment/eks/README.md); the deployer's image mirroring uses the same two calls (CCID, pull token);
 * - ecrConnections: create, list and delete registry connections;
 * - coverage: read hosts and registry connections.
 */
export const FEATURE_SCOPES: Readonly<Record<FalconClientFeature, readonly FalconScope[]>> = {
  ssmDistributor: [FalconScope.SensorDownloadRead, FalconScope.SensorUpdatePoliciesRead],
  eksProtection: [FalconScope.ImagesDownloadRead, FalconScope.SensorDownloadRead],
  ecrConnections: [FalconScope.ContainerImageRead, FalconScope.ContainerImageWrite],
  coverage: [FalconScope.HostsRead, FalconScope.ContainerImageRead],
};

/** Where each feature's client is stored once deployed (README › Security model says the same). */
export const FEATURE_CREDENTIAL_HOMES: Readonly<Record<FalconClientFeature, string>> = {
  ssmDistributor:
    'a Secrets Manager secret in every member account and SSM region, read by the SSM automation role',
  eksProtection:
    'the home account (read by the deployer CodeBuild project) and a Kubernetes Secret in namespace falcon-operator on every protected cluster',
  ecrConnections: 'a Secrets Manager secret in every member account, read by the ecr-connect function',
  coverage: 'the home account, read by the coverage function and by `falcon-org status`',
};

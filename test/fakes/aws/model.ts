/**
 * The organization the AWS stand-in (./server.ts) answers for: accounts, OUs and, per account and
 * region, what the coverage readers look at. An interface, so a benchmark can generate a large
 * organization on demand and a test can hold a small one in plain objects.
 */

export interface ModelInstance {
  readonly id: string;
  readonly name?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** SSM ping status when SSM manages the instance. */
  readonly ssm?: 'Online' | 'ConnectionLost';
  /** This deployment's association on the instance: its last status there. */
  readonly association?: 'Success' | 'Failed' | 'Pending';
  /** Another association on the same instance failed (its compliance summary is then NON_COMPLIANT). */
  readonly otherAssociationFailed?: boolean;
}

export interface ModelRegion {
  readonly instances: readonly ModelInstance[];
  readonly association?: { readonly id: string; readonly name: string; readonly status: string };
  readonly clusters: readonly string[];
}

export interface ModelAccount {
  readonly id: string;
  readonly name: string;
  readonly state: 'ACTIVE' | 'SUSPENDED';
  /** False: the coverage role cannot be assumed (AccessDenied). */
  readonly assumable: boolean;
  readonly enabledRegions: readonly string[];
  region(name: string): ModelRegion | undefined;
  /** SSM parameters of the account's home region (the ECR ownership record). */
  parameter(name: string): string | undefined;
}

export interface OrgModel {
  readonly organizationId: string;
  readonly managementAccountId: string;
  readonly rootId: string;
  /** OUs and accounts directly under a root or OU. */
  children(parentId: string): {
    readonly ous: readonly { readonly id: string; readonly name: string }[];
    readonly accounts: readonly string[];
  };
  account(id: string): ModelAccount | undefined;
  /** Items of the EKS runs table (plain objects, marshalled on the wire). */
  runsTable(): readonly Record<string, unknown>[];
  /** The runs table's name: a Scan of another table is answered ResourceNotFoundException. @default - any name */
  readonly runsTableName?: string;
  /** Root stack outputs by stack name. */
  stackOutputs(stackName: string): Readonly<Record<string, string>> | undefined;
}

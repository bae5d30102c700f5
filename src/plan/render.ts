import type { Plan, PlanResource } from './plan.js';

/** Renders the plan as the human-readable report `falcon-org plan` prints. */
export function renderPlan(plan: Plan): string {
  const lines: string[] = [];
  const root = plan.rootStack;
  lines.push(
    `Root stack ${root.name} (home region ${root.region}): ${count(root.resources.length, 'resource')}`,
  );
  lines.push(...typeSummary(root.resources).map((t) => `  ${t}`));
  lines.push('');
  for (const feature of plan.features) {
    lines.push(`Feature ${feature.name}: ${feature.status}`);
    for (const s of feature.stackSets) {
      lines.push(`  StackSet ${s.name} (${s.scope}, call as ${s.callAs})`);
      lines.push(`    targets:  ${s.targets.organizationalUnitIds.join(', ')}`);
      if (s.targets.excludedAccounts.length > 0) {
        lines.push(`    excluded: ${s.targets.excludedAccounts.join(', ')}`);
      }
      lines.push(`    regions:  ${s.regions.join(', ')}`);
      const instance = count(s.resources.length, 'resource');
      lines.push(
        s.scope === 'account'
          ? `    ${instance} per account`
          : `    ${instance} per account and region; ${s.resourcesPerAccount} per account`,
      );
      lines.push(...typeSummary(s.resources).map((t) => `      ${t}`));
    }
    for (const note of feature.notes) lines.push(`  note: ${note}`);
    if (feature.stackSets.length > 0) {
      lines.push(`  ${feature.name} total: ${count(feature.resourcesPerAccount, 'resource')} per account`);
    }
    lines.push('');
  }
  const t = plan.totals;
  lines.push(
    `Totals: ${count(t.stackSets, 'StackSet')}, ${count(t.rootResources, 'resource')} in the root stack, ` +
      `${count(t.resourcesPerAccount, 'resource')} in each targeted account`,
  );
  const regions = Object.entries(t.resourcesPerAccountByRegion);
  if (regions.length > 0) {
    lines.push(`  per account and region: ${regions.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  }
  if (plan.rollout) {
    const r = plan.rollout;
    lines.push('');
    lines.push(
      `Rollout: ${r.maxConcurrentPercentage}% of accounts at once, failure tolerance ${r.failureTolerancePercentage}%, ` +
        `${r.concurrencyMode}, regions ${r.regionConcurrency}`,
    );
    lines.push(...r.explanation.map((e) => `  ${e}`));
  }
  if (plan.afterDestroy.length > 0) {
    lines.push('');
    lines.push('Left behind by "falcon-org destroy":');
    lines.push(...plan.afterDestroy.map((e) => `  - ${e}`));
  }
  return lines.join('\n');
}

function typeSummary(resources: readonly PlanResource[]): string[] {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts.entries()].map(([type, n]) => `${n} x ${type}`);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

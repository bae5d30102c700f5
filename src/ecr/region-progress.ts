/**
 * Remembers which regions a run planned and the results of those it finished, to report the finished
 * ones and name the unfinished ones at a deadline.
 */
export class RegionProgress<R extends { readonly region: string } = { readonly region: string }> {
  private plannedRegions: readonly string[] | undefined;
  private owned: Readonly<Record<string, string>> = {};
  private readonly done = new Map<string, R>();

  planned(regions: readonly string[], owned: Readonly<Record<string, string>> = {}): void {
    this.plannedRegions = regions;
    this.owned = owned;
  }

  /** The connection the run owned in `region` when it started, if any. */
  ownedAtStart(region: string): string | undefined {
    return Object.hasOwn(this.owned, region) ? this.owned[region] : undefined;
  }

  finished(result: R): void {
    this.done.set(result.region, result);
  }

  /** Results of the regions finished so far, in the planned order. */
  results(): R[] {
    return (this.plannedRegions ?? []).flatMap((r) => {
      const result = this.done.get(r);
      return result === undefined ? [] : [result];
    });
  }

  /** Unfinished regions, or undefined when the run had not yet decided which regions to handle. */
  unfinished(): string[] | undefined {
    return this.plannedRegions?.filter((r) => !this.done.has(r));
  }

  describeUnfinished(): string {
    const left = this.unfinished();
    if (left === undefined)
      return 'the run had not yet determined its regions (reading secrets or listing regions)';
    return left.length === 0
      ? 'all regions were handled but the run had not completed'
      : `unfinished regions: ${left.join(', ')}`;
  }
}

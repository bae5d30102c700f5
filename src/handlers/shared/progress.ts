/** Remembers which regions a run planned and which it finished, to name the unfinished ones at a deadline. */
export class RegionProgress {
  private plannedRegions: readonly string[] | undefined;
  private readonly done = new Set<string>();

  planned(regions: readonly string[]): void {
    this.plannedRegions = regions;
  }

  finished(result: { readonly region: string }): void {
    this.done.add(result.region);
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

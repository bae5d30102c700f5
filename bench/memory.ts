/** Peak memory of a benchmark run, sampled every 20 ms (plus on each read, so a last spike counts). */
export interface MemorySampler {
  /** Peak resident set size so far, in bytes. */
  readonly peakRss: () => number;
  /** Peak V8 heap used so far, in bytes. */
  readonly peakHeap: () => number;
  readonly stop: () => void;
}

export function sampleMemory(intervalMs = 20): MemorySampler {
  let peakRss = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, intervalMs);
  return {
    peakRss: () => (sample(), peakRss),
    peakHeap: () => (sample(), peakHeap),
    stop: () => clearInterval(timer),
  };
}

/** Bytes as MiB with one decimal. */
export const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

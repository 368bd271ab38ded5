/**
 * A latency histogram with logarithmic buckets (2 % wide) that load processes fill and the
 * orchestrator merges: percentiles stay within 2 % without keeping every sample.
 */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);

/** What crosses the IPC channel: sparse buckets plus exact count, sum, min and max (ms). */
export interface HistogramData {
  buckets: Array<[index: number, count: number]>;
  count: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
}

/** Percentiles of one histogram, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export class Histogram {
  private readonly counts = new Map<number, number>();
  count = 0;
  sumMs = 0;
  minMs = Infinity;
  maxMs = 0;

  /** Records one latency; negative values (clock skew between processes) count as 0. */
  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    const us = v * 1000;
    const index = us < 1 ? 0 : 1 + Math.floor(Math.log(us) / LOG_GROWTH);
    this.counts.set(index, (this.counts.get(index) ?? 0) + 1);
    this.count++;
    this.sumMs += v;
    if (v < this.minMs) this.minMs = v;
    if (v > this.maxMs) this.maxMs = v;
  }

  merge(data: HistogramData): this {
    for (const [index, n] of data.buckets) this.counts.set(index, (this.counts.get(index) ?? 0) + n);
    this.count += data.count;
    this.sumMs += data.sumMs;
    this.minMs = Math.min(this.minMs, data.minMs);
    this.maxMs = Math.max(this.maxMs, data.maxMs);
    return this;
  }

  /** The latency below which `q` (0..1) of the samples fall: the upper edge of that bucket. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (const index of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(index)!;
      if (seen >= rank) return Math.min(this.maxMs, index === 0 ? 0.001 : GROWTH ** index / 1000);
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: this.count ? this.maxMs : NaN,
      mean: this.count ? this.sumMs / this.count : NaN,
    };
  }

  toJSON(): HistogramData {
    return { buckets: [...this.counts.entries()], count: this.count, sumMs: this.sumMs, minMs: this.minMs, maxMs: this.maxMs };
  }

  static from(parts: HistogramData[]): Histogram {
    const h = new Histogram();
    for (const p of parts) h.merge(p);
    return h;
  }
}

import { monitorEventLoopDelay } from 'node:perf_hooks';

/** How often the native monitor samples: a 20 ms timer, as prom-client's own monitor. */
const RESOLUTION_MS = 20;
/** The delay reported is the mean over a window at least this long. */
const WINDOW_MS = 200;

/** Samples after which the histogram starts again (about 5 hours), so its running sum stays exact. */
const MAX_SAMPLES = 1_000_000;

/**
 * How late the event loop runs: the mean delay of a timer over the last window, in ms. It is
 * what anything arriving now waits before its callback runs, whether the loop is busy with
 * handshakes, messages or a collection. The monitor samples natively; whoever asks reads the
 * window, so no JavaScript timer runs. The histogram is read by difference, not reset per window:
 * the interval that follows a reset is not recorded, and it may be the very stall to see.
 */
export class EventLoopDelay {
  private readonly histogram: ReturnType<typeof monitorEventLoopDelay> = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private windowStart = performance.now();
  private countBefore = 0;
  private sumBefore = 0;
  private lastMs = 0;

  start(): void {
    this.histogram.enable();
  }

  stop(): void {
    this.histogram.disable();
  }

  /** Mean delay (ms) over the last completed window; 0 before the first one. */
  currentMs(): number {
    const now = performance.now();
    if (now - this.windowStart < WINDOW_MS) return this.lastMs;
    const { count } = this.histogram;
    const sum = count > 0 ? this.histogram.mean * count : 0;
    // The monitor records whole intervals (the resolution plus the delay): the delay is the rest.
    if (count > this.countBefore) this.lastMs = Math.max(0, (sum - this.sumBefore) / (count - this.countBefore) / 1e6 - RESOLUTION_MS);
    this.windowStart = now;
    this.countBefore = count;
    this.sumBefore = sum;
    if (count > MAX_SAMPLES) {
      this.histogram.reset();
      this.countBefore = this.sumBefore = 0;
    }
    return this.lastMs;
  }
}

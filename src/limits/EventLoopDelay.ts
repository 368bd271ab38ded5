import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** How often the native monitor samples: a 20 ms timer, as prom-client's own monitor. */
const RESOLUTION_MS = 20;
/** The delay reported is the mean over a window at least this long. */
const WINDOW_MS = 200;

/**
 * How late the event loop runs: the mean delay of a timer over the last window, in ms. It is
 * what anything arriving now waits before its callback runs, whether the loop is busy with
 * handshakes, messages or a collection. The monitor samples natively; the window is read and
 * reset lazily by whoever asks, so no JavaScript timer runs.
 */
export class EventLoopDelay {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private windowStart = performance.now();
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
    // The monitor records whole intervals (the resolution plus the delay): the delay is the rest.
    if (this.histogram.count > 0) this.lastMs = Math.max(0, this.histogram.mean / 1e6 - RESOLUTION_MS);
    this.histogram.reset();
    this.windowStart = now;
    return this.lastMs;
  }
}

/**
 * Prints a line whenever this process's event loop stalled for more than `thresholdMs` during
 * the last second: with BENCH_CHILD_LOGS it tells which process held a latency spike up.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export function logStalls(name: string, thresholdMs = 15): void {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  setInterval(() => {
    // The monitor records whole 5 ms intervals: the stall is what lies above the shortest one.
    const maxMs = (delay.max - delay.min) / 1e6;
    if (maxMs > thresholdMs) console.log(`${new Date().toISOString()} ${name}: event loop stalled ${maxMs.toFixed(1)} ms`);
    delay.reset();
  }, 1000).unref();
}

import { expect } from 'chai';
import { ramp } from '../../bench/lib/ramp.js';
import type { WindowResult } from '../../bench/lib/window.js';

/**
 * A window offered `messagesPerSecond`, as the fan-out ramp measures them: the ramp counts
 * deliveries/s (1000 per message) while the window records messages/s.
 */
function fanoutWindow(messagesPerSecond: number, p99: number): WindowResult {
  const latency = { count: 1, p50: 1, p95: 1, p99, max: p99, mean: 1 };
  return {
    offeredRate: messagesPerSecond, sendMs: 1000, sent: messagesPerSecond, skipped: 0,
    acked: messagesPerSecond, ackErrors: 0, ackTimeouts: 0, sentRate: messagesPerSecond,
    ackedRate: messagesPerSecond, delivered: messagesPerSecond * 1000, expected: messagesPerSecond * 1000,
    deliveredRate: messagesPerSecond * 1000, latency, ackLatency: latency, serverCpuMs: 0,
    serverSystemMs: 0, serverCores: 0, cpuMsPerUnit: 0, helperCores: {}, loadCores: 0,
    chatCalls: {}, events: {}, eventRates: {}, errors: [],
  };
}

describe('bench ramp', function () {
  this.timeout(10_000);

  it('bisects between the last held and the first failed rate, in the ramp\'s own unit', async () => {
    const tried: number[] = [];
    // Holds up to 60,000 deliveries/s: steps 20k and 40k hold, 80k fails, then 60k holds, 70k fails.
    const result = await ramp(
      { startRate: 20_000, factor: 2, maxSteps: 5, stepMs: 1, refineSteps: 2 },
      50,
      async (rate) => {
        tried.push(rate);
        return fanoutWindow(rate / 1000, rate <= 60_000 ? 10 : 80);
      },
      () => {},
    );
    expect(tried).to.deep.equal([20_000, 40_000, 80_000, 80_000, 60_000, 70_000, 70_000]);
    expect(result.sustained?.deliveredRate).to.equal(60_000);
    expect(result.stoppedBecause).to.equal('p99 80.0 ms > 50 ms');
  });
});

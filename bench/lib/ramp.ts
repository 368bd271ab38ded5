/**
 * The highest offered rate that holds: windows at geometrically rising rates until one fails
 * (errors, missing acks or deliveries, p99 above the bound, or load clients that cannot offer
 * the rate), then `refineSteps` bisections between the last rate that held and the first that
 * failed, so the answer is not just the nearest step of the geometric series. A rate that
 * fails is tried once more before it counts as failed: on a small shared machine one stall of
 * a few tens of ms (a GC pause, a descheduled process) decides a 3-second window's p99. The
 * last window that held is the sustained rate.
 */
import { whyNotHeld, describeWindow, type WindowResult } from './window.js';

export interface RampSettings {
  startRate: number;
  factor: number;
  maxSteps: number;
  stepMs: number;
  /** Bisections after the first failure (0: none). */
  refineSteps?: number;
}

export interface RampStep {
  rate: number;
  window: WindowResult;
  /** Why it did not hold; absent when it held. */
  failed?: string;
}

export interface RampResult {
  steps: RampStep[];
  /** The last window that held. */
  sustained?: WindowResult;
  stoppedBecause: string;
}

export async function ramp(
  settings: RampSettings,
  p99BoundMs: number,
  measure: (rate: number, durationMs: number) => Promise<WindowResult>,
  log: (line: string) => void,
): Promise<RampResult> {
  const steps: RampStep[] = [];
  let sustained: WindowResult | undefined;
  let heldRate: number | undefined;
  let rate = settings.startRate;
  for (let i = 0; i < settings.maxSteps; i++) {
    const { window, failed } = await attempt('ramp', rate, settings, p99BoundMs, measure, log, steps);
    if (failed) return refine(settings, p99BoundMs, measure, log, { steps, sustained, stoppedBecause: failed }, heldRate, rate);
    sustained = window;
    heldRate = rate;
    rate *= settings.factor;
  }
  return { steps, sustained, stoppedBecause: `reached the last step (${settings.maxSteps})` };
}

/**
 * Bisects between `heldRate` and `failedRate`; the first failure stays the reason. Both are in
 * the ramp's own unit (a fan-out ramp counts deliveries/s, while its windows offer messages/s).
 */
async function refine(
  settings: RampSettings,
  p99BoundMs: number,
  measure: (rate: number, durationMs: number) => Promise<WindowResult>,
  log: (line: string) => void,
  result: RampResult,
  heldRate: number | undefined,
  failedRate: number,
): Promise<RampResult> {
  let low = heldRate;
  let high = failedRate;
  for (let i = 0; low !== undefined && i < (settings.refineSteps ?? 0); i++) {
    const rate = (low + high) / 2;
    const { window, failed } = await attempt('refine', rate, settings, p99BoundMs, measure, log, result.steps);
    if (failed) high = rate;
    else {
      low = rate;
      result.sustained = window;
    }
  }
  return result;
}

/** One rate, measured a second time when the first window fails; every window is recorded. */
async function attempt(
  label: string,
  rate: number,
  settings: RampSettings,
  p99BoundMs: number,
  measure: (rate: number, durationMs: number) => Promise<WindowResult>,
  log: (line: string) => void,
  steps: RampStep[],
): Promise<{ window: WindowResult; failed?: string }> {
  let outcome!: { window: WindowResult; failed?: string };
  for (let tries = 1; tries <= 2; tries++) {
    // After a failed window, let its backlog clear first.
    if (tries > 1) await new Promise((r) => setTimeout(r, 1000));
    const window = await measure(rate, settings.stepMs);
    outcome = { window, failed: whyNotHeld(window, p99BoundMs) };
    steps.push({ rate, ...outcome });
    const verdict = outcome.failed ? `FAILS (${outcome.failed})${tries === 1 ? ', trying once more' : ''}` : 'holds';
    log(`  ${label} ${Math.round(rate)}/s: ${verdict} — ${describeWindow(window)}`);
    if (!outcome.failed) break;
  }
  return outcome;
}

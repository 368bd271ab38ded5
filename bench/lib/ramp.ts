/**
 * The highest offered rate that holds: windows at geometrically rising rates until one fails
 * (errors, missing acks or deliveries, p99 above the bound, or load clients that cannot offer
 * the rate). The last window that held is the sustained rate.
 */
import { whyNotHeld, describeWindow, type WindowResult } from './window.js';

export interface RampSettings {
  startRate: number;
  factor: number;
  maxSteps: number;
  stepMs: number;
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
  let rate = settings.startRate;
  for (let i = 0; i < settings.maxSteps; i++) {
    const window = await measure(rate, settings.stepMs);
    const failed = whyNotHeld(window, p99BoundMs);
    steps.push({ rate, window, failed });
    log(`  ramp ${Math.round(rate)}/s: ${failed ? `FAILS (${failed})` : 'holds'} — ${describeWindow(window)}`);
    if (failed) return { steps, sustained, stoppedBecause: failed };
    sustained = window;
    rate *= settings.factor;
  }
  return { steps, sustained, stoppedBecause: `reached the last step (${settings.maxSteps})` };
}

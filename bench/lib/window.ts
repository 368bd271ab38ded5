/**
 * One measured window: the load processes emit at a fixed offered rate for a while, then the
 * acks and deliveries are gathered, and the servers' CPU over the same span is read from /proc.
 */
import { Histogram, type LatencySummary } from './histogram.js';
import type { LoadFleet } from './fleet.js';
import type { SendKind } from './loadProtocol.js';
import { startCpuMeter, untilIdle } from './procStats.js';
import type { Target } from './servers.js';

export interface WindowSpec {
  kind: SendKind;
  /** (sender, target) pairs placed on load processes. */
  sendersByProc: Array<Array<[string, string]>>;
  /** Offered events per second, all processes together. */
  rate: number;
  durationMs: number;
  /** `receive_message` frames expected per acked event (1 for 1:1, members-1 for a room, 0 for storms). */
  deliveriesPerAck: number;
  contentBytes: number;
  drainMs: number;
  collectIds?: boolean;
}

export interface WindowResult {
  offeredRate: number;
  /** How long the load clients emitted (the longest process). */
  sendMs: number;
  sent: number;
  /** Events the load clients could not emit on time (they were the bottleneck). */
  skipped: number;
  acked: number;
  ackErrors: number;
  ackTimeouts: number;
  sentRate: number;
  ackedRate: number;
  delivered: number;
  expected: number;
  deliveredRate: number;
  /** Send (timestamp in the payload) → `receive_message` on the receiver. */
  latency: LatencySummary;
  /** Send → ack, on the sender. */
  ackLatency: LatencySummary;
  /** CPU of the socket servers over the window (ms), and in cores (1 = one core busy). */
  serverCpuMs: number;
  /** Of serverCpuMs, the part spent in the kernel (system time: syscalls, loopback TCP). */
  serverSystemMs: number;
  serverCores: number;
  /** Server CPU ms per delivered message (per acked event when nothing is delivered). */
  cpuMsPerUnit: number;
  /** The servers' event-loop delay over the window (gateway only). */
  eventLoopDelay?: { p99Ms: number; maxMs: number };
  /** CPU of helpers (chat stand-in, redis) in cores, and of the load processes. */
  helperCores: Record<string, number>;
  loadCores: number;
  /** Calls the chat stand-in received during the window, by operation. */
  chatCalls: Record<string, number>;
  /** Other server events received (message_sent, user_typing, message_status_update, …), and per second. */
  events: Record<string, number>;
  eventRates: Record<string, number>;
  errors: string[];
}

export interface WindowContext {
  fleet: LoadFleet;
  target: Target;
  nextStep(): number;
}

export async function measureWindow(ctx: WindowContext, spec: WindowSpec): Promise<WindowResult> {
  const { fleet, target } = ctx;
  const step = ctx.nextStep();
  await untilIdle([...target.serverPids, ...Object.values(target.helperPids)]);
  const calls0 = await target.chatCalls();
  await target.eventLoopDelay(); // starts the delay monitor afresh
  const server = startCpuMeter(target.serverPids);
  const helpers = Object.entries(target.helperPids).map(([name, pid]) => [name, startCpuMeter([pid])] as const);
  const load = startCpuMeter(fleet.pids);
  const runs = await fleet.run(
    spec.sendersByProc,
    { step, kind: spec.kind, durationMs: spec.durationMs, contentBytes: spec.contentBytes, drainMs: spec.drainMs, collectIds: spec.collectIds },
    spec.rate,
  );
  const collected = await fleet.collect(step, 100, spec.drainMs);
  const cpu = server.stop();
  const loadCpu = load.stop();
  const helperCores = Object.fromEntries(helpers.map(([name, meter]) => [name, cores(meter.stop())]));
  const calls1 = await target.chatCalls();
  const eventLoopDelay = await target.eventLoopDelay();

  const sum = (f: (r: (typeof runs)[number]) => number) => runs.reduce((n, r) => n + f(r), 0);
  const sendS = Math.max(...runs.map((r) => r.sendMs), 1) / 1000;
  const acked = sum((r) => r.acked);
  const delivered = collected.reduce((n, c) => n + c.delivered, 0);
  const events: Record<string, number> = {};
  for (const c of collected) for (const [k, v] of Object.entries(c.events)) events[k] = (events[k] ?? 0) + v;
  const units = spec.deliveriesPerAck > 0 ? delivered : acked;
  return {
    offeredRate: spec.rate,
    sendMs: sendS * 1000,
    sent: sum((r) => r.sent),
    skipped: sum((r) => r.skipped),
    acked,
    ackErrors: sum((r) => r.ackErrors),
    ackTimeouts: sum((r) => r.ackTimeouts),
    sentRate: sum((r) => r.sent) / sendS,
    ackedRate: acked / sendS,
    delivered,
    expected: acked * spec.deliveriesPerAck,
    deliveredRate: delivered / sendS,
    latency: Histogram.from(collected.map((c) => c.delivery)).summary(),
    ackLatency: Histogram.from(runs.map((r) => r.ack)).summary(),
    serverCpuMs: cpu.cpuMs,
    serverSystemMs: cpu.systemMs,
    eventLoopDelay,
    serverCores: cores(cpu),
    cpuMsPerUnit: units > 0 ? cpu.cpuMs / units : NaN,
    helperCores,
    loadCores: cores(loadCpu),
    chatCalls: Object.fromEntries(Object.entries(calls1).map(([k, v]) => [k, v - (calls0[k] ?? 0)]).filter(([, v]) => v !== 0)),
    events,
    eventRates: Object.fromEntries(Object.entries(events).map(([k, v]) => [k, v / sendS])),
    errors: runs.flatMap((r) => r.errors).slice(0, 5),
  };
}

function cores(m: { cpuMs: number; wallMs: number }): number {
  return m.wallMs > 0 ? m.cpuMs / m.wallMs : 0;
}

/** Why a window does not count as "holding" its rate, or undefined when it holds. */
export function whyNotHeld(w: WindowResult, p99BoundMs: number): string | undefined {
  if (w.skipped > 0.05 * (w.sent + w.skipped)) {
    return `load clients fell behind, emitted ${Math.round(w.sentRate)}/s (load-limited, or starved by other processes)`;
  }
  if (w.ackErrors > 0) return `${w.ackErrors} error acks (${w.errors[0] ?? ''})`;
  if (w.acked < 0.97 * w.sent) return `only ${w.acked} of ${w.sent} acked in time`;
  if (w.expected > 0 && w.delivered < 0.97 * w.expected) return `only ${w.delivered} of ${w.expected} deliveries`;
  const p99 = Math.max(w.ackLatency.p99, w.expected > 0 ? w.latency.p99 : 0);
  if (!(p99 <= p99BoundMs)) return `p99 ${p99.toFixed(1)} ms > ${p99BoundMs} ms`;
  return undefined;
}

/** A compact one-line account of a window for the console. */
export function describeWindow(w: WindowResult): string {
  const lat = w.expected > 0 ? w.latency : w.ackLatency;
  return (
    `offered ${Math.round(w.offeredRate)}/s sent ${Math.round(w.sentRate)}/s acked ${Math.round(w.ackedRate)}/s` +
    (w.expected > 0 ? ` delivered ${Math.round(w.deliveredRate)}/s` : '') +
    ` p50 ${lat.p50.toFixed(1)} p99 ${lat.p99.toFixed(1)} max ${lat.max.toFixed(1)} ms` +
    ` | server ${w.serverCores.toFixed(2)} cores, ${(w.cpuMsPerUnit * 1000).toFixed(1)} µs/unit (${Math.round((100 * w.serverSystemMs) / w.serverCpuMs)} % system)` +
    (w.eventLoopDelay ? `, loop delay p99 ${w.eventLoopDelay.p99Ms.toFixed(1)} max ${w.eventLoopDelay.maxMs.toFixed(1)} ms` : '') +
    `, load ${w.loadCores.toFixed(2)} cores`
  );
}

/**
 * Scenario 2: pairs of users exchanging `send_message` with acks, at a fixed offered rate,
 * then rising until it no longer holds, then at 70 % of the highest rate that held.
 */
import { ramp, type RampResult } from '../lib/ramp.js';
import type { ServerKind, Target } from '../lib/servers.js';
import { bothWays, connectAll, pairsOn, round, sleep, sustainedCell, windowOn, withTarget, type Row, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { describeWindow, type WindowResult } from '../lib/window.js';

export interface RelayFigures {
  pairs: number;
  fixed: WindowResult;
  ramp: RampResult;
  sustainedRate?: number;
  at70?: WindowResult;
}

/** Connects the pairs to `urlA` (first of each pair) and `urlB` (second), and returns a window runner. */
export async function preparePairs(ctx: ScenarioContext, target: Target, prefix: string, urlA: string, urlB = urlA) {
  const pairsByProc = pairsOn(ctx, prefix, ctx.profile.relay.pairs);
  await connectAll(ctx, pairsByProc.map((ps) => ps.map(([a]) => a)), urlA);
  await connectAll(ctx, pairsByProc.map((ps) => ps.map(([, b]) => b)), urlB);
  const sendersByProc = bothWays(pairsByProc);
  const window = (rate: number, durationMs: number) =>
    windowOn(ctx, target, { kind: 'send_message', sendersByProc, rate, durationMs, deliveriesPerAck: 1 });
  await window(ctx.profile.relay.fixedRate / 2, ctx.profile.warmupMs);
  return window;
}

async function measure(ctx: ScenarioContext, target: Target): Promise<RelayFigures> {
  const { relay, p99BoundMs } = ctx.profile;
  const window = await preparePairs(ctx, target, 'r', target.urls[0]);
  const fixed = await window(relay.fixedRate, relay.fixedMs);
  ctx.log(`  fixed: ${describeWindow(fixed)}`);
  const rampResult = await ramp(relay.ramp, p99BoundMs, window, ctx.log);
  let at70: WindowResult | undefined;
  if (rampResult.sustained) {
    await sleep(1000);
    at70 = await window(0.7 * rampResult.sustained.deliveredRate, relay.at70Ms);
    ctx.log(`  at 70 %: ${describeWindow(at70)}`);
  }
  return { pairs: relay.pairs, fixed, ramp: rampResult, sustainedRate: rampResult.sustained?.deliveredRate, at70 };
}

const latencies = (w: WindowResult | undefined) =>
  w ? `${round(w.latency.p50, 1)} / ${round(w.latency.p95, 1)} / ${round(w.latency.p99, 1)} / ${round(w.latency.max, 1)}` : 'n/a';

function rows(f: Partial<Record<ServerKind, RelayFigures>>, fixedRate: number): Row[] {
  const pick = (g: (x: RelayFigures) => number | string) =>
    Object.fromEntries(Object.entries(f).map(([k, v]) => [k, g(v)])) as Row['values'];
  const gw = f.gateway;
  const bare = f.bare;
  const chatCallsPerMessage = (w: WindowResult) =>
    w.acked > 0 ? Object.entries(w.chatCalls).reduce((n, [k, v]) => n + (k.startsWith('create_message') ? v : 0), 0) / w.acked : NaN;
  return [
    { metric: `delivered at ${fixedRate}/s offered`, unit: 'msg/s', values: pick((x) => round(x.fixed.deliveredRate)), better: 'higher' },
    { metric: `latency at ${fixedRate}/s: p50 / p95 / p99 / max`, unit: 'ms', values: pick((x) => latencies(x.fixed)), better: 'none' },
    {
      metric: `server CPU per message at ${fixedRate}/s`,
      unit: 'µs',
      values: pick((x) => round(x.fixed.cpuMsPerUnit * 1000, 1)),
      better: 'lower',
      target: gw && bare ? { text: '≤ 2× bare', pass: gw.fixed.cpuMsPerUnit <= 2 * bare.fixed.cpuMsPerUnit } : { text: '≤ 2× bare' },
    },
    {
      metric: 'sustained (highest rate that held)',
      unit: 'msg/s',
      values: pick((x) => sustainedCell(x.ramp, (w) => w.deliveredRate)),
      better: 'higher',
      target:
        gw && bare
          ? { text: '≥ 0.6× bare', pass: (gw.sustainedRate ?? 0) >= 0.6 * (bare.sustainedRate ?? Infinity) }
          : { text: '≥ 0.6× bare' },
    },
    { metric: 'ramp stopped because', unit: '', values: pick((x) => x.ramp.stoppedBecause), better: 'none' },
    {
      metric: 'server cores busy at the sustained rate',
      unit: 'cores',
      values: pick((x) => round(x.ramp.sustained?.serverCores ?? NaN, 2)),
      better: 'none',
    },
    {
      metric: 'latency at 70 % of sustained: p50 / p95 / p99 / max',
      unit: 'ms',
      values: pick((x) => latencies(x.at70)),
      better: 'none',
      target: gw ? { text: 'gateway p99 < 25 ms', pass: gw.at70 !== undefined && gw.at70.latency.p99 < 25 } : undefined,
    },
    ...(gw ? [{ metric: 'chat-service calls per message (gateway)', unit: '', values: { gateway: round(chatCallsPerMessage(gw.fixed), 3) }, better: 'none' as const }] : []),
  ];
}

export const relay: Scenario = {
  name: 'relay',
  title: '1:1 relay: send_message with acks between pairs (persistence included for the gateway)',
  async run(ctx) {
    const figures: Partial<Record<ServerKind, RelayFigures>> = {};
    for (const kind of ctx.opts.servers) {
      ctx.log(` ${kind}: ${ctx.profile.relay.pairs} pairs`);
      figures[kind] = await withTarget(ctx, kind, {}, (target) => measure(ctx, target));
    }
    return { name: 'relay', title: this.title, figures, rows: rows(figures, ctx.profile.relay.fixedRate) };
  },
};

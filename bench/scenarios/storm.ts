/**
 * Scenario 4: a storm of small events between pairs: `typing` and `message_delivered` (for
 * messages really sent first, so the gateway's chat-service knows their senders), with acks.
 * The gateway throttles `typing` relays per user and target (TYPING_THROTTLE_MS); the bare
 * relay relays every one: both the acked and the relayed counts are reported.
 */
import { ramp, type RampResult } from '../lib/ramp.js';
import type { ServerKind, Target } from '../lib/servers.js';
import { bothWays, connectAll, pairsOn, round, sustainedCell, windowOn, withTarget, type Row, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { describeWindow, type WindowResult } from '../lib/window.js';

interface StormFigures {
  pairs: number;
  prepared: WindowResult;
  fixed: WindowResult;
  ramp: RampResult;
  sustainedRate?: number;
}

const RELAYED = ['user_typing', 'message_status_update'];
const relayedRate = (w: WindowResult) => RELAYED.reduce((n, e) => n + (w.eventRates[e] ?? 0), 0);

async function measure(ctx: ScenarioContext, target: Target): Promise<StormFigures> {
  const { storm, relay, p99BoundMs } = ctx.profile;
  const pairsByProc = pairsOn(ctx, 's', storm.pairs);
  await connectAll(ctx, pairsByProc.map((ps) => ps.flat()), target.urls[0]);
  const sendersByProc = bothWays(pairsByProc);
  // Real messages first: each socket keeps the ids it received, for its receipts.
  const prepared = await windowOn(ctx, target, {
    kind: 'send_message',
    sendersByProc,
    rate: relay.fixedRate,
    durationMs: 1000,
    deliveriesPerAck: 1,
    collectIds: true,
  });
  ctx.log(`  prepared ${prepared.delivered} messages for receipts`);
  const window = (rate: number, durationMs: number) => windowOn(ctx, target, { kind: 'storm', sendersByProc, rate, durationMs, deliveriesPerAck: 0 });
  await window(storm.fixedRate / 2, ctx.profile.warmupMs);
  const fixed = await window(storm.fixedRate, storm.fixedMs);
  ctx.log(`  fixed: ${describeWindow(fixed)}, relayed ${Math.round(relayedRate(fixed))}/s`);
  const rampResult = await ramp(storm.ramp, p99BoundMs, window, ctx.log);
  return { pairs: storm.pairs, prepared, fixed, ramp: rampResult, sustainedRate: rampResult.sustained?.ackedRate };
}

function rows(f: Partial<Record<ServerKind, StormFigures>>, fixedRate: number): Row[] {
  const pick = (g: (x: StormFigures) => number | string) =>
    Object.fromEntries(Object.entries(f).map(([k, v]) => [k, g(v)])) as Row['values'];
  return [
    { metric: `events acked at ${fixedRate}/s offered`, unit: 'events/s', values: pick((x) => round(x.fixed.ackedRate)), better: 'higher' },
    { metric: `events relayed at ${fixedRate}/s (user_typing + message_status_update)`, unit: 'events/s', values: pick((x) => round(relayedRate(x.fixed))), better: 'none' },
    { metric: `server CPU per event at ${fixedRate}/s`, unit: 'µs', values: pick((x) => round(x.fixed.cpuMsPerUnit * 1000, 1)), better: 'lower' },
    { metric: `ack latency at ${fixedRate}/s p50 / p99`, unit: 'ms', values: pick((x) => `${round(x.fixed.ackLatency.p50, 1)} / ${round(x.fixed.ackLatency.p99, 1)}`), better: 'none' },
    { metric: 'sustained events (acked)', unit: 'events/s', values: pick((x) => sustainedCell(x.ramp, (w) => w.ackedRate)), better: 'higher' },
    { metric: 'ramp stopped because', unit: '', values: pick((x) => x.ramp.stoppedBecause), better: 'none' },
  ];
}

export const storm: Scenario = {
  name: 'storm',
  title: 'Typing and receipts storm: typing + message_delivered with acks between pairs',
  async run(ctx) {
    const figures: Partial<Record<ServerKind, StormFigures>> = {};
    for (const kind of ctx.serverOrder) {
      ctx.log(` ${kind}: ${ctx.profile.storm.pairs} pairs`);
      figures[kind] = await withTarget(ctx, kind, {}, (target) => measure(ctx, target));
    }
    return { name: 'storm', title: this.title, figures, rows: rows(figures, ctx.profile.storm.fixedRate) };
  },
};

/**
 * Scenarios 2 and 3: pairs of users exchanging `send_message` with acks, at a fixed offered
 * rate, then rising until it no longer holds, then at 70 % of the highest rate that held; the
 * gateway's stand-in chat-service with its batch endpoints, then without them (single calls).
 */
import { ramp, type RampResult } from '../lib/ramp.js';
import type { ServerKind, StartOptions, Target } from '../lib/servers.js';
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

/** The targets for one variant of the relay, as gateway / bare ratios. */
interface RelayTargets {
  /** Sustained msg/s at least this times the bare relay's. */
  sustained: number;
  /** Server CPU per message at the fixed rate at most this times the bare relay's. */
  cpu: number;
  /** The gateway's p99 at 70 % of its sustained rate below this. */
  p99At70Ms?: number;
}

function rows(f: Partial<Record<ServerKind, RelayFigures>>, fixedRate: number, targets: RelayTargets): Row[] {
  const pick = (g: (x: RelayFigures) => number | string) =>
    Object.fromEntries(Object.entries(f).map(([k, v]) => [k, g(v)])) as Row['values'];
  const gw = f.gateway;
  const bare = f.bare;
  const both = gw && bare ? { gw, bare } : undefined;
  const chatCallsPerMessage = (w: WindowResult) =>
    w.acked > 0 ? Object.entries(w.chatCalls).reduce((n, [k, v]) => n + (k.startsWith('create_message') ? v : 0), 0) / w.acked : NaN;
  const cpuText = `≤ ${targets.cpu}× bare`;
  const sustainedText = `≥ ${targets.sustained}× bare`;
  const p99Bound = targets.p99At70Ms;
  const p99Target = p99Bound === undefined ? undefined : { text: `gateway p99 < ${p99Bound} ms`, pass: gw && gw.at70 !== undefined && gw.at70.latency.p99 < p99Bound };
  const cpuAtSustained = (x: RelayFigures) => (x.ramp.sustained ? x.ramp.sustained.cpuMsPerUnit * 1000 : NaN);
  return [
    { metric: `delivered at ${fixedRate}/s offered`, unit: 'msg/s', values: pick((x) => round(x.fixed.deliveredRate)), better: 'higher' },
    { metric: `latency at ${fixedRate}/s: p50 / p95 / p99 / max`, unit: 'ms', values: pick((x) => latencies(x.fixed)), better: 'none' },
    {
      metric: `server CPU per message at ${fixedRate}/s`,
      unit: 'µs',
      values: pick((x) => round(x.fixed.cpuMsPerUnit * 1000, 1)),
      better: 'lower',
      target: { text: cpuText, pass: both && both.gw.fixed.cpuMsPerUnit <= targets.cpu * both.bare.fixed.cpuMsPerUnit },
    },
    {
      metric: 'sustained (highest rate that held)',
      unit: 'msg/s',
      values: pick((x) => sustainedCell(x.ramp, (w) => w.deliveredRate)),
      better: 'higher',
      target: { text: sustainedText, pass: both && (both.gw.sustainedRate ?? 0) >= targets.sustained * (both.bare.sustainedRate ?? Infinity) },
    },
    { metric: 'ramp stopped because', unit: '', values: pick((x) => x.ramp.stoppedBecause), better: 'none' },
    {
      metric: 'server cores busy at the sustained rate',
      unit: 'cores',
      values: pick((x) => round(x.ramp.sustained?.serverCores ?? NaN, 2)),
      better: 'none',
    },
    { metric: 'server CPU per message at the sustained rate', unit: 'µs', values: pick((x) => round(cpuAtSustained(x), 1)), better: 'lower' },
    {
      metric: 'latency at 70 % of sustained: p50 / p95 / p99 / max',
      unit: 'ms',
      values: pick((x) => latencies(x.at70)),
      better: 'none',
      target: p99Target,
    },
    ...(gw ? [{ metric: 'chat-service calls per message (gateway)', unit: '', values: { gateway: round(chatCallsPerMessage(gw.fixed), 3) }, better: 'none' as const }] : []),
  ];
}

interface RelayVariant {
  name: 'relay' | 'relay-single';
  title: string;
  label: string;
  /** How the gateway's services are started. */
  start: Partial<StartOptions>;
  targets: RelayTargets;
}

/**
 * A relay scenario. The bare relay calls no service, so a variant that differs only in the
 * gateway's services takes the bare figures of the `relay` scenario when it ran in this run.
 */
function relayScenario(variant: RelayVariant): Scenario {
  return {
    name: variant.name,
    title: variant.title,
    async run(ctx) {
      const figures: Partial<Record<ServerKind, RelayFigures>> = {};
      const earlierBare = variant.name === 'relay' ? undefined : (ctx.earlier.get('relay')?.figures.bare as RelayFigures | undefined);
      for (const kind of ctx.serverOrder) {
        if (kind === 'bare' && earlierBare) {
          figures.bare = earlierBare;
          continue;
        }
        ctx.log(` ${kind}: ${ctx.profile.relay.pairs} pairs`);
        figures[kind] = await withTarget(ctx, kind, kind === 'gateway' ? variant.start : {}, (target) => measure(ctx, target));
      }
      return {
        name: variant.name,
        title: variant.title,
        label: variant.label,
        note: earlierBare ? 'Bare relay: the figures of the 1:1 relay above (it calls no service).' : undefined,
        figures,
        rows: rows(figures, ctx.profile.relay.fixedRate, variant.targets),
      };
    },
  };
}

export const relay = relayScenario({
  name: 'relay',
  title: '1:1 relay: send_message with acks between pairs (persistence included for the gateway; chat-service with batch endpoints)',
  label: '1:1 relay, chat-service with batch endpoints',
  start: {},
  targets: { sustained: 0.8, cpu: 1.5, p99At70Ms: 25 },
});

export const relaySingle = relayScenario({
  name: 'relay-single',
  title: '1:1 relay, chat-service without batch endpoints: the gateway stores every message with its own call',
  label: '1:1 relay, chat-service without batch endpoints',
  start: { withoutBatchEndpoints: true },
  targets: { sustained: 0.3, cpu: 4 },
});

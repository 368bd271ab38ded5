/**
 * Scenario 5: the 1:1 relay with the two users of every pair on different instances sharing a
 * Redis (adapter, and for the gateway presence and limits), compared with one instance at the
 * same offered rate: server CPU per relayed message, both instances together.
 *
 * Three figures explain the ratio: one instance at half the rate (what each of the two instances
 * sees), because on this machine a server's CPU per message grows as its load falls; one
 * instance with the Redis adapter and both users of every pair on it (what the adapter costs
 * with no traffic between instances); and the same comparison at three times the rate, where
 * both the pair and the single instance are busy.
 *
 * The two instances are warmed up for longer than one: each carries half the load, so after the
 * usual warm-up its code is still being compiled (at 750 msg/s a gateway measured 292 µs per
 * message after 2 s of warm-up and 213 µs after 30 s), a cost a long-running instance no longer pays.
 */
import { ramp, type RampResult } from '../lib/ramp.js';
import type { ServerKind } from '../lib/servers.js';
import { round, sustainedCell, withTarget, type Row, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { describeWindow, type WindowResult } from '../lib/window.js';
import { preparePairs, type RelayFigures } from './relay.js';

interface RedisFigures {
  twoInstances: WindowResult;
  ramp?: RampResult;
  singleInstance: WindowResult;
  /** Where the single-instance figure comes from. */
  singleFrom: 'relay scenario' | 'measured here';
  cpuRatio: number;
  /** One instance at half the fixed rate: the load each of the two instances carries. */
  singleAtHalf: WindowResult;
  /** One instance with the Redis adapter, both users of every pair on it, at the fixed rate. */
  singleOnRedis: WindowResult;
  /** Two instances against `singleOnRedis`: what splitting the traffic costs, the adapter aside. */
  cpuRatioOnRedis: number;
  /** Both comparisons again at three times the fixed rate. */
  heavy: { rate: number; twoInstances: WindowResult; singleInstance: WindowResult; cpuRatio: number };
}

/** The heavier comparison's rate, as a multiple of the relay's fixed rate. */
const HEAVY_FACTOR = 3;

async function measure(ctx: ScenarioContext, kind: ServerKind): Promise<RedisFigures> {
  const { relay, redis: settings, p99BoundMs } = ctx.profile;
  const heavyRate = relay.fixedRate * HEAVY_FACTOR;
  const redis = await ctx.servers.startRedis();
  let two: { fixed: WindowResult; heavy: WindowResult; rampResult?: RampResult };
  let onRedis: WindowResult;
  try {
    two = await withTarget(ctx, kind, { instances: 2, redisUrl: redis.url }, async (target) => {
      target.helperPids.redis = redis.pid;
      const window = await preparePairs(ctx, target, 'x', target.urls[0], target.urls[1]);
      await window(relay.fixedRate, settings.warmupMs);
      const fixed = await window(relay.fixedRate, settings.fixedMs);
      ctx.log(`  two instances: ${describeWindow(fixed)}`);
      const heavy = await window(heavyRate, settings.fixedMs);
      ctx.log(`  two instances at ${heavyRate}/s: ${describeWindow(heavy)}`);
      const rampResult = settings.ramp ? await ramp(settings.ramp, p99BoundMs, window, ctx.log) : undefined;
      return { fixed, heavy, rampResult };
    });
    onRedis = await withTarget(ctx, kind, { instances: 1, redisUrl: redis.url }, async (target) => {
      const window = await preparePairs(ctx, target, 'z', target.urls[0]);
      const w = await window(relay.fixedRate, settings.fixedMs);
      ctx.log(`  one instance on Redis: ${describeWindow(w)}`);
      return w;
    });
  } finally {
    await redis.stop();
  }
  const fromRelay = (ctx.earlier.get('relay')?.figures[kind] as RelayFigures | undefined)?.fixed;
  const one = await withTarget(ctx, kind, {}, async (target) => {
    const window = await preparePairs(ctx, target, 'y', target.urls[0]);
    const at = async (rate: number, label: string) => {
      const w = await window(rate, settings.fixedMs);
      ctx.log(`  one instance${label}: ${describeWindow(w)}`);
      return w;
    };
    return { fixed: fromRelay ?? (await at(relay.fixedRate, '')), half: await at(relay.fixedRate / 2, ' at half the rate'), heavy: await at(heavyRate, ` at ${heavyRate}/s`) };
  });
  const ratio = (a: WindowResult, b: WindowResult) => a.cpuMsPerUnit / b.cpuMsPerUnit;
  return {
    twoInstances: two.fixed,
    ramp: two.rampResult,
    singleInstance: one.fixed,
    singleFrom: fromRelay ? 'relay scenario' : 'measured here',
    cpuRatio: ratio(two.fixed, one.fixed),
    singleAtHalf: one.half,
    singleOnRedis: onRedis,
    cpuRatioOnRedis: ratio(two.fixed, onRedis),
    heavy: { rate: heavyRate, twoInstances: two.heavy, singleInstance: one.heavy, cpuRatio: ratio(two.heavy, one.heavy) },
  };
}

function rows(f: Partial<Record<ServerKind, RedisFigures>>, fixedRate: number): Row[] {
  const pick = (g: (x: RedisFigures) => number | string) =>
    Object.fromEntries(Object.entries(f).map(([k, v]) => [k, g(v)])) as Row['values'];
  const gw = f.gateway;
  return [
    { metric: `delivered across instances at ${fixedRate}/s`, unit: 'msg/s', values: pick((x) => round(x.twoInstances.deliveredRate)), better: 'higher' },
    {
      metric: `latency across instances p50 / p99 / max`,
      unit: 'ms',
      values: pick((x) => `${round(x.twoInstances.latency.p50, 1)} / ${round(x.twoInstances.latency.p99, 1)} / ${round(x.twoInstances.latency.max, 1)}`),
      better: 'none',
    },
    { metric: 'server CPU per message, 2 instances (sum)', unit: 'µs', values: pick((x) => round(x.twoInstances.cpuMsPerUnit * 1000, 1)), better: 'lower' },
    { metric: 'server CPU per message, 1 instance', unit: 'µs', values: pick((x) => round(x.singleInstance.cpuMsPerUnit * 1000, 1)), better: 'lower' },
    {
      metric: '2 instances / 1 instance CPU per message',
      unit: '×',
      values: pick((x) => round(x.cpuRatio, 2)),
      better: 'lower',
      target: gw ? { text: 'gateway ≤ 1.5×', pass: gw.cpuRatio <= 1.5 } : undefined,
    },
    {
      metric: `server CPU per message, 1 instance at ${fixedRate / 2}/s (what each of the two carries)`,
      unit: 'µs',
      values: pick((x) => round(x.singleAtHalf.cpuMsPerUnit * 1000, 1)),
      better: 'lower',
    },
    {
      metric: `server CPU per message, 1 instance on Redis at ${fixedRate}/s (the adapter, no traffic between instances)`,
      unit: 'µs',
      values: pick((x) => round(x.singleOnRedis.cpuMsPerUnit * 1000, 1)),
      better: 'lower',
    },
    { metric: '2 instances / 1 instance on Redis CPU per message', unit: '×', values: pick((x) => round(x.cpuRatioOnRedis, 2)), better: 'lower' },
    {
      metric: `at ${fixedRate * HEAVY_FACTOR}/s: CPU per message, 2 instances / 1 instance`,
      unit: 'µs',
      values: pick((x) => `${round(x.heavy.twoInstances.cpuMsPerUnit * 1000, 1)} / ${round(x.heavy.singleInstance.cpuMsPerUnit * 1000, 1)}`),
      better: 'none',
    },
    { metric: `at ${fixedRate * HEAVY_FACTOR}/s: 2 instances / 1 instance CPU per message`, unit: '×', values: pick((x) => round(x.heavy.cpuRatio, 2)), better: 'lower' },
    { metric: 'redis-server cores busy', unit: 'cores', values: pick((x) => round(x.twoInstances.helperCores.redis ?? NaN, 2)), better: 'none' },
    ...(Object.values(f).some((x) => x.ramp)
      ? [{ metric: 'sustained across instances', unit: 'msg/s', values: pick((x) => (x.ramp ? sustainedCell(x.ramp, (w) => w.deliveredRate) : 'n/a')), better: 'higher' as const }]
      : []),
  ];
}

const LABEL = 'two instances on Redis, 1:1 relay across them';

export const redis: Scenario = {
  name: 'redis',
  title: 'Two instances on Redis: the 1:1 relay with sender and receiver on different instances',
  async run(ctx) {
    if (!ctx.servers.hasRedis()) {
      const why = 'SKIPPED: redis-server is not installed (apt-get install redis-server)';
      ctx.log(` ${why}`);
      return { name: 'redis', title: this.title, label: LABEL, figures: {}, rows: [], skipped: why };
    }
    const figures: Partial<Record<ServerKind, RedisFigures>> = {};
    for (const kind of ctx.serverOrder) {
      ctx.log(` ${kind}: ${ctx.profile.relay.pairs} pairs across two instances`);
      figures[kind] = await measure(ctx, kind);
    }
    return { name: 'redis', title: this.title, label: LABEL, figures, rows: rows(figures, ctx.profile.relay.fixedRate) };
  },
};

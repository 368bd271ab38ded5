/**
 * Scenario 5: the 1:1 relay with the two users of every pair on different instances sharing a
 * Redis (adapter, and for the gateway presence and limits), compared with one instance at the
 * same offered rate: server CPU per relayed message, both instances together.
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
}

async function measure(ctx: ScenarioContext, kind: ServerKind): Promise<RedisFigures> {
  const { relay, redis: settings, p99BoundMs } = ctx.profile;
  const redis = await ctx.servers.startRedis();
  let twoInstances: WindowResult;
  let rampResult: RampResult | undefined;
  try {
    ({ twoInstances, rampResult } = await withTarget(ctx, kind, { instances: 2, redisUrl: redis.url }, async (target) => {
      target.helperPids.redis = redis.pid;
      const window = await preparePairs(ctx, target, 'x', target.urls[0], target.urls[1]);
      const fixed = await window(relay.fixedRate, settings.fixedMs);
      ctx.log(`  two instances: ${describeWindow(fixed)}`);
      const r = settings.ramp ? await ramp(settings.ramp, p99BoundMs, window, ctx.log) : undefined;
      return { twoInstances: fixed, rampResult: r };
    }));
  } finally {
    await redis.stop();
  }
  const fromRelay = (ctx.earlier.get('relay')?.figures[kind] as RelayFigures | undefined)?.fixed;
  const singleInstance =
    fromRelay ??
    (await withTarget(ctx, kind, {}, async (target) => {
      const window = await preparePairs(ctx, target, 'y', target.urls[0]);
      const fixed = await window(relay.fixedRate, settings.fixedMs);
      ctx.log(`  one instance: ${describeWindow(fixed)}`);
      return fixed;
    }));
  return {
    twoInstances,
    ramp: rampResult,
    singleInstance,
    singleFrom: fromRelay ? 'relay scenario' : 'measured here',
    cpuRatio: twoInstances.cpuMsPerUnit / singleInstance.cpuMsPerUnit,
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
    { metric: 'redis-server cores busy', unit: 'cores', values: pick((x) => round(x.twoInstances.helperCores.redis ?? NaN, 2)), better: 'none' },
    ...(Object.values(f).some((x) => x.ramp)
      ? [{ metric: 'sustained across instances', unit: 'msg/s', values: pick((x) => (x.ramp ? sustainedCell(x.ramp, (w) => w.deliveredRate) : 'n/a')), better: 'higher' as const }]
      : []),
  ];
}

export const redis: Scenario = {
  name: 'redis',
  title: 'Two instances on Redis: the 1:1 relay with sender and receiver on different instances',
  async run(ctx) {
    if (!ctx.servers.hasRedis()) {
      const why = 'SKIPPED: redis-server is not installed (apt-get install redis-server)';
      ctx.log(` ${why}`);
      return { name: 'redis', title: this.title, figures: {}, rows: [], skipped: why };
    }
    const figures: Partial<Record<ServerKind, RedisFigures>> = {};
    for (const kind of ctx.opts.servers) {
      ctx.log(` ${kind}: ${ctx.profile.relay.pairs} pairs across two instances`);
      figures[kind] = await measure(ctx, kind);
    }
    return { name: 'redis', title: this.title, figures, rows: rows(figures, ctx.profile.relay.fixedRate) };
  },
};

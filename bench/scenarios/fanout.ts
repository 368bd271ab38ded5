/**
 * Scenario 3: rooms of 10, 100 and 1000 members, all connected and joined, one sender per
 * room sending `send_group_message`; the offered rate is counted in deliveries per second.
 * Members of a room are spread over the load processes, so latency uses the machine's wall clock.
 */
import { ramp, type RampResult } from '../lib/ramp.js';
import type { ServerKind, Target } from '../lib/servers.js';
import { connectAll, round, sustainedCell, withTarget, windowOn, type Row, type Scenario, type ScenarioContext } from '../lib/scenario.js';

interface FanoutCaseFigures {
  size: number;
  rooms: number;
  joinFailures: number;
  ramp: RampResult;
  sustainedDeliveries?: number;
}

async function measureCase(ctx: ScenarioContext, target: Target, size: number, rooms: number): Promise<FanoutCaseFigures> {
  const procs = ctx.fleet.size;
  const usersByProc: string[][] = Array.from({ length: procs }, () => []);
  const membershipsByProc: Array<Array<[string, string]>> = Array.from({ length: procs }, () => []);
  const sendersByProc: Array<Array<[string, string]>> = Array.from({ length: procs }, () => []);
  for (let j = 0; j < rooms; j++) {
    const room = `room-${size}-${j}`;
    for (let k = 0; k < size; k++) {
      const user = `f${size}r${j}m${k}`;
      const proc = (j + k) % procs;
      usersByProc[proc].push(user);
      membershipsByProc[proc].push([user, room]);
      if (k === 0) sendersByProc[proc].push([user, room]);
    }
  }
  await connectAll(ctx, usersByProc, target.urls[0]);
  const joined = await ctx.fleet.rooms('join', membershipsByProc);
  const joinFailures = joined.reduce((n, r) => n + r.failed, 0);
  const joinRetries = joined.reduce((n, r) => n + r.retried, 0);
  if (joinRetries > 0) ctx.log(`  ${joinRetries} join_room refused as retryable and tried again`);
  if (joinFailures > 0) ctx.log(`  WARNING: ${joinFailures} join_room failed: ${joined.flatMap((r) => r.errors)[0]}`);
  const window = (deliveriesPerS: number, durationMs: number) =>
    windowOn(ctx, target, { kind: 'send_group_message', sendersByProc, rate: deliveriesPerS / (size - 1), durationMs, deliveriesPerAck: size - 1 });
  await window(ctx.profile.fanout.ramp.startRate / 2, ctx.profile.warmupMs);
  const rampResult = await ramp(ctx.profile.fanout.ramp, ctx.profile.p99BoundMs, window, ctx.log);
  // Leave first: closing sockets still in a room would tell every other member, N² frames.
  await ctx.fleet.rooms('leave', membershipsByProc);
  await ctx.fleet.close();
  return { size, rooms, joinFailures, ramp: rampResult, sustainedDeliveries: rampResult.sustained?.deliveredRate };
}

function rows(f: Partial<Record<ServerKind, FanoutCaseFigures[]>>): Row[] {
  const sizes = (f.gateway ?? f.bare ?? []).map((c) => c.size);
  return sizes.flatMap((size) => {
    const at = (kind: ServerKind) => f[kind]?.find((c) => c.size === size);
    const pick = (g: (x: FanoutCaseFigures) => number | string) =>
      Object.fromEntries((['bare', 'gateway'] as const).filter((k) => at(k)).map((k) => [k, g(at(k)!)])) as Row['values'];
    const gw = at('gateway');
    const bare = at('bare');
    const rooms = (gw ?? bare)!.rooms;
    const label = `room of ${size}${rooms > 1 ? ` (×${rooms} rooms)` : ''}`;
    const first = (x: FanoutCaseFigures) => x.ramp.steps[0]?.window;
    return [
      {
        metric: `${label}: sustained deliveries`,
        unit: 'deliveries/s',
        values: pick((x) => sustainedCell(x.ramp, (w) => w.deliveredRate)),
        better: 'higher' as const,
        target:
          size === 1000
            ? gw && bare
              ? { text: '≥ 0.8× bare', pass: (gw.sustainedDeliveries ?? 0) >= 0.8 * (bare.sustainedDeliveries ?? Infinity) }
              : { text: '≥ 0.8× bare' }
            : undefined,
      },
      {
        metric: `${label}: latency at sustained p50 / p99 / max`,
        unit: 'ms',
        values: pick((x) => {
          const l = x.ramp.sustained?.latency;
          return l ? `${round(l.p50, 1)} / ${round(l.p99, 1)} / ${round(l.max, 1)}` : 'n/a';
        }),
        better: 'none' as const,
      },
      {
        metric: `${label}: server CPU per delivery at ${firstRate(f, size)}/s`,
        unit: 'µs',
        values: pick((x) => round((first(x)?.cpuMsPerUnit ?? NaN) * 1000, 2)),
        better: 'lower' as const,
      },
      { metric: `${label}: ramp stopped because`, unit: '', values: pick((x) => x.ramp.stoppedBecause), better: 'none' as const },
    ];
  });
}

/** The offered deliveries/s of the first ramp step (the same for both servers). */
function firstRate(f: Partial<Record<ServerKind, FanoutCaseFigures[]>>, size: number): number {
  const c = (f.gateway ?? f.bare)?.find((x) => x.size === size);
  return round(c?.ramp.steps[0]?.rate ?? NaN);
}

export const fanout: Scenario = {
  name: 'fanout',
  title: 'Group fan-out: one sender per room, send_group_message to every joined member',
  async run(ctx) {
    const figures: Partial<Record<ServerKind, FanoutCaseFigures[]>> = {};
    for (const kind of ctx.serverOrder) {
      figures[kind] = await withTarget(ctx, kind, {}, async (target) => {
        const cases: FanoutCaseFigures[] = [];
        for (const { size, rooms } of ctx.profile.fanout.cases) {
          ctx.log(` ${kind}: ${rooms} room(s) of ${size}`);
          cases.push(await measureCase(ctx, target, size, rooms));
        }
        return cases;
      });
    }
    return { name: 'fanout', title: this.title, label: 'group fan-out', figures, rows: rows(figures) };
  },
};

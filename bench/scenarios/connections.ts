/**
 * Scenario 1: open N authenticated sockets at a steady rate from the load processes, hold them
 * idle, and see what each costs the server and whether every one stayed up.
 */
import { Histogram } from '../lib/histogram.js';
import { rssBytes, startCpuMeter } from '../lib/procStats.js';
import { JWT_SECRET, type ServerKind, type Target } from '../lib/servers.js';
import { round, sleep, withTarget, type Row, type Scenario, type ScenarioContext } from '../lib/scenario.js';

interface ConnectionFigures {
  sockets: number;
  connected: number;
  failed: number;
  connectErrors: string[];
  elapsedMs: number;
  connectRate: number;
  handshakeMs: ReturnType<Histogram['summary']>;
  serverCpuUsPerConnection: number;
  /** CPU in use while connecting: the server, and the load processes (a bottleneck when near 1 per core). */
  serverCoresConnecting: number;
  loadCoresConnecting: number;
  idleMs: number;
  openAfterIdle: number;
  droppedDuringIdle: number;
  serverCountsAfterIdle: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  rssPerConnectionKiB: number;
  heapBeforeBytes?: number;
  heapAfterBytes?: number;
  heapPerConnectionKiB: number;
}

async function measure(ctx: ScenarioContext, target: Target): Promise<ConnectionFigures> {
  const { sockets, rate, idleMs } = ctx.profile.connections;
  await sleep(500);
  const pid = target.serverPids[0];
  const rssBefore = rssBytes(pid);
  const heapBefore = await target.heapBytes();
  const users = Array.from({ length: sockets }, (_, i) => `c${i}`);
  const cpu = startCpuMeter(target.serverPids);
  const loadCpu = startCpuMeter(ctx.fleet.pids);
  const results = await ctx.fleet.connect(ctx.fleet.spread(users), target.urls[0], rate, JWT_SECRET, 400);
  const connectCpu = cpu.stop();
  const connectLoadCpu = loadCpu.stop();
  const connected = results.reduce((n, r) => n + r.connected, 0);
  const elapsedMs = Math.max(...results.map((r) => r.elapsedMs));
  ctx.log(`  ${connected}/${sockets} connected in ${Math.round(elapsedMs)} ms; idle for ${idleMs} ms...`);
  await sleep(idleMs);
  const status = await ctx.fleet.status();
  const rssAfter = rssBytes(pid);
  const heapAfter = await target.heapBytes();
  const perConnKiB = (before: number, after: number) => (connected > 0 ? (after - before) / connected / 1024 : NaN);
  return {
    sockets,
    connected,
    failed: results.reduce((n, r) => n + r.failed, 0),
    connectErrors: results.flatMap((r) => r.errors).slice(0, 5),
    elapsedMs,
    connectRate: connected / (elapsedMs / 1000),
    handshakeMs: Histogram.from(results.map((r) => r.latency)).summary(),
    serverCpuUsPerConnection: connected > 0 ? (connectCpu.cpuMs * 1000) / connected : NaN,
    serverCoresConnecting: connectCpu.cpuMs / connectCpu.wallMs,
    loadCoresConnecting: connectLoadCpu.cpuMs / connectLoadCpu.wallMs,
    idleMs,
    openAfterIdle: status.reduce((n, s) => n + s.open, 0),
    droppedDuringIdle: status.reduce((n, s) => n + s.unexpectedCloses, 0),
    serverCountsAfterIdle: await target.connections(),
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssAfter,
    rssPerConnectionKiB: perConnKiB(rssBefore, rssAfter),
    heapBeforeBytes: heapBefore,
    heapAfterBytes: heapAfter,
    heapPerConnectionKiB: heapBefore !== undefined && heapAfter !== undefined ? perConnKiB(heapBefore, heapAfter) : NaN,
  };
}

function rows(f: Partial<Record<ServerKind, ConnectionFigures>>): Row[] {
  const pick = (g: (x: ConnectionFigures) => number | string) =>
    Object.fromEntries(Object.entries(f).map(([k, v]) => [k, g(v)])) as Row['values'];
  const gw = f.gateway;
  const bare = f.bare;
  const stayedUp = (x: ConnectionFigures) => x.connected === x.sockets && x.openAfterIdle === x.sockets && x.droppedDuringIdle === 0;
  return [
    {
      metric: 'connect + auth rate',
      unit: 'sockets/s',
      values: pick((x) => round(x.connectRate)),
      better: 'higher',
      target: gw ? { text: '≥ 3000/s', pass: gw.connectRate >= 3000 } : undefined,
    },
    { metric: 'handshake p50 / p99', unit: 'ms', values: pick((x) => `${round(x.handshakeMs.p50, 1)} / ${round(x.handshakeMs.p99, 1)}`), better: 'none' },
    { metric: 'server CPU per connect', unit: 'µs', values: pick((x) => round(x.serverCpuUsPerConnection)), better: 'lower' },
    {
      metric: 'cores busy while connecting: server / load clients',
      unit: 'cores',
      values: pick((x) => `${round(x.serverCoresConnecting, 2)} / ${round(x.loadCoresConnecting, 2)}`),
      better: 'none',
    },
    {
      metric: 'RSS per idle connection',
      unit: 'KiB',
      values: pick((x) => round(x.rssPerConnectionKiB, 1)),
      better: 'lower',
      target:
        gw && bare ? { text: '≤ 1.25× bare', pass: gw.rssPerConnectionKiB <= 1.25 * bare.rssPerConnectionKiB } : { text: '≤ 1.25× bare' },
    },
    { metric: 'heap per idle connection', unit: 'KiB', values: pick((x) => round(x.heapPerConnectionKiB, 1)), better: 'lower' },
    {
      metric: 'sockets up after idle (client / server count)',
      unit: '',
      values: pick((x) => `${x.openAfterIdle}/${x.sockets} (${x.serverCountsAfterIdle})`),
      better: 'none',
      target: gw ? { text: 'none dropped', pass: stayedUp(gw) } : undefined,
    },
  ];
}

export const connections: Scenario = {
  name: 'connections',
  title: 'Connections: authenticated sockets opened at a steady rate, then held idle',
  async run(ctx) {
    const figures: Partial<Record<ServerKind, ConnectionFigures>> = {};
    for (const kind of ctx.opts.servers) {
      ctx.log(` ${kind}: ${ctx.profile.connections.sockets} sockets at ${ctx.profile.connections.rate}/s offered`);
      figures[kind] = await withTarget(ctx, kind, {}, (target) => measure(ctx, target));
    }
    return { name: 'connections', title: this.title, figures, rows: rows(figures) };
  },
};

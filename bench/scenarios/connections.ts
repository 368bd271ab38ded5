/**
 * Scenario 1, the connect storm: N authenticated sockets offered at a steady high rate from the
 * load processes, then held idle: what each costs the server and whether every one got in and
 * stayed up. A client refused with SERVER_BUSY comes back after the server's `retry_after_ms`
 * and counts as connected once it gets in; the refusals are counted. For the gateway, the
 * status updates the stand-in auth-service received show what the storm cost it.
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
  /** SERVER_BUSY answers, and the clients they went to (all retried). */
  refusals: number;
  refusedClients: number;
  /** Calls to the auth-service's status endpoints (single and batch) and the updates they carried. */
  statusCalls: number;
  statusUpdates: number;
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
  const calls0 = await target.chatCalls();
  const cpu = startCpuMeter(target.serverPids);
  const loadCpu = startCpuMeter(ctx.fleet.pids);
  const results = await ctx.fleet.connect(ctx.fleet.spread(users), target.urls[0], rate, JWT_SECRET, 400);
  const connectCpu = cpu.stop();
  const connectLoadCpu = loadCpu.stop();
  const connected = results.reduce((n, r) => n + r.connected, 0);
  const elapsedMs = Math.max(...results.map((r) => r.elapsedMs));
  const refused = results.reduce((n, r) => n + r.refusedClients, 0);
  ctx.log(`  ${connected}/${sockets} connected in ${Math.round(elapsedMs)} ms (${refused} refused with SERVER_BUSY first); idle for ${idleMs} ms...`);
  await sleep(idleMs);
  const status = await ctx.fleet.status();
  const rssAfter = rssBytes(pid);
  const heapAfter = await target.heapBytes();
  const calls = await target.chatCalls();
  const since = (name: string) => (calls[name] ?? 0) - (calls0[name] ?? 0);
  const perConnKiB = (before: number, after: number) => (connected > 0 ? (after - before) / connected / 1024 : NaN);
  return {
    sockets,
    connected,
    failed: results.reduce((n, r) => n + r.failed, 0),
    connectErrors: results.flatMap((r) => r.errors).slice(0, 5),
    refusals: results.reduce((n, r) => n + r.refusals, 0),
    refusedClients: refused,
    statusCalls: since('set_status') + since('set_status_batch'),
    statusUpdates: since('status_updates'),
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
  const both = gw && bare ? { gw, bare } : undefined;
  const heldAll = (x: ConnectionFigures) => x.connected === x.sockets && x.openAfterIdle === x.sockets && x.droppedDuringIdle === 0;
  const perConnection = (n: number, x: ConnectionFigures) => (x.connected > 0 ? n / x.connected : NaN);
  return [
    {
      metric: 'connect + auth rate',
      unit: 'sockets/s',
      values: pick((x) => round(x.connectRate)),
      better: 'higher',
      target: { text: '≥ 0.8× bare', pass: both && both.gw.connectRate >= 0.8 * both.bare.connectRate },
    },
    { metric: 'handshake p50 / p99 (first attempt → connected)', unit: 'ms', values: pick((x) => `${round(x.handshakeMs.p50, 1)} / ${round(x.handshakeMs.p99, 1)}`), better: 'none' },
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
      target: { text: '≤ 1.25× bare', pass: both && both.gw.rssPerConnectionKiB <= 1.25 * both.bare.rssPerConnectionKiB },
    },
    { metric: 'heap per idle connection', unit: 'KiB', values: pick((x) => round(x.heapPerConnectionKiB, 1)), better: 'lower' },
    {
      metric: 'sockets up after idle: client / offered (server count)',
      unit: '',
      values: pick((x) => `${x.openAfterIdle}/${x.sockets} (${x.serverCountsAfterIdle})${x.failed ? `, ${x.failed} failed` : ''}`),
      better: 'none',
      target: { text: 'every client connected and held', pass: gw && heldAll(gw) },
    },
    {
      metric: 'refused with SERVER_BUSY, then in on retry: clients (refusals)',
      unit: '',
      values: pick((x) => `${x.refusedClients} (${x.refusals})`),
      better: 'none',
      headline: true,
    },
    ...(gw
      ? [
          {
            metric: 'auth-service status calls (updates) per connection',
            unit: '',
            values: { gateway: `${round(perConnection(gw.statusCalls, gw), 3)} (${round(perConnection(gw.statusUpdates, gw), 3)})` },
            better: 'none' as const,
          },
        ]
      : []),
  ];
}

export const connections: Scenario = {
  name: 'connections',
  title: 'Connect storm: authenticated sockets offered at a steady high rate, then held idle',
  async run(ctx) {
    const { sockets, rate } = ctx.profile.connections;
    const figures: Partial<Record<ServerKind, ConnectionFigures>> = {};
    for (const kind of ctx.serverOrder) {
      ctx.log(` ${kind}: ${sockets} sockets at ${rate}/s offered`);
      figures[kind] = await withTarget(ctx, kind, {}, (target) => measure(ctx, target));
    }
    const label = `connect storm, ${sockets.toLocaleString('en-US')} clients offered at ${rate.toLocaleString('en-US')}/s`;
    return { name: 'connections', title: this.title, label, figures, rows: rows(figures) };
  },
};

/**
 * `npm run bench:storm`: a handshake storm against one gateway started as the bench starts it
 * (`lib/servers.ts`: `.env.example`'s values, the services at the fast stand-in), to see where
 * handshakes stop being served promptly and what admission control (SERVER_BUSY) does about it.
 * N clients are offered at a rate from the load processes over loopback, with no bound on
 * handshakes in flight (a storm has none); a client refused with SERVER_BUSY comes back after
 * `retry_after_ms`. While they connect, the gateway's /metrics is read every 500 ms (event-loop
 * delay, handshakes in progress, refusals) and printed as a timeline.
 *
 *   npm run bench:storm                                    # 15,000 clients offered at 6,000/s
 *   npm run bench:storm -- --rates 2000,4000,6000 --clients 15000
 *   npm run bench:storm -- --gateway-env HANDSHAKE_MAX_PENDING=0   # admission off
 *   npm run bench:storm -- --remote --verify-delay-ms 200  # AUTH_MODE=remote, a slow auth-service
 *   npm run bench:storm -- --bare                          # the bare relay first, same storm
 *   npm run bench:storm -- --cpu-prof                      # + a profile summary of the gateway
 *
 * Writes bench/results/{out}.json and .md (default `storm`).
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compileBench, ensureGatewayBuilt } from './lib/build.js';
import { LoadFleet } from './lib/fleet.js';
import { Histogram, type LatencySummary } from './lib/histogram.js';
import { choosePlacement, pin } from './lib/placement.js';
import { ProcessGroup } from './lib/processes.js';
import { rssBytes, startCpuMeter } from './lib/procStats.js';
import { renderProfileSummary, summarizeProfile } from './lib/profileSummary.js';
import { describeMachine } from './lib/report.js';
import { JWT_SECRET, Servers, type ServerKind, type Target } from './lib/servers.js';

interface StormOptions {
  clients: number;
  rates: number[];
  loadProcs: number;
  gatewayEnv: Record<string, string>;
  verifyDelayMs: number;
  bare: boolean;
  cpuProf: boolean;
  holdMs: number;
  out: string;
}

/** One reading of the gateway's /metrics during a storm. */
interface Sample {
  atMs: number;
  connections: number;
  inProgress: number;
  refused: number;
  loopDelayMeanMs: number;
  loopDelayMaxMs: number;
  rssBytes: number;
}

interface StormFigures {
  server: ServerKind;
  rate: number;
  clients: number;
  connected: number;
  failed: number;
  refusals: number;
  refusedClients: number;
  errors: string[];
  elapsedMs: number;
  connectRate: number;
  /** A client's first try → `connected`, waits after SERVER_BUSY included. */
  untilConnectedMs: LatencySummary;
  serverCpuUsPerConnection: number;
  /** Server CPU while the clients connected, per handshake (connected or refused with SERVER_BUSY). */
  serverCpuUsPerHandshake: number;
  openAfterHold: number;
  rssPerConnectionKiB: number;
  peakRssBytes: number;
  timeline: Sample[];
}

const USAGE = `npm run bench:storm -- [--clients 15000] [--rates 6000[,…]] [--load-procs 3] [--gateway-env KEY=VALUE]...
  [--remote] [--verify-delay-ms 0] [--bare] [--cpu-prof] [--hold-ms 5000] [--out storm]`;

function parseOptions(argv: string[]): StormOptions {
  const opts: StormOptions = {
    clients: 15_000,
    rates: [6000],
    loadProcs: 3,
    gatewayEnv: {},
    verifyDelayMs: 0,
    bare: false,
    cpuProf: false,
    holdMs: 5000,
    out: 'storm',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i] ?? fail(`${arg} needs a value`);
    const number = () => Number(value()) || fail(`${arg} needs a number`);
    if (arg === '--clients') opts.clients = number();
    else if (arg === '--rates') opts.rates = value().split(',').map(Number).filter((r) => r > 0);
    else if (arg === '--load-procs') opts.loadProcs = Math.max(1, Math.min(8, number()));
    else if (arg === '--gateway-env') {
      const [key, ...rest] = value().split('=');
      opts.gatewayEnv[key] = rest.join('=');
    } else if (arg === '--remote') opts.gatewayEnv.AUTH_MODE = 'remote';
    else if (arg === '--verify-delay-ms') opts.verifyDelayMs = number();
    else if (arg === '--bare') opts.bare = true;
    else if (arg === '--cpu-prof') opts.cpuProf = true;
    else if (arg === '--hold-ms') opts.holdMs = Number(value());
    else if (arg === '--out') opts.out = value().replace(/[^\w.-]/g, '');
    else fail(`unknown option ${arg}`);
  }
  return opts;
}

function fail(message: string): never {
  throw new Error(`${message}\n${USAGE}`);
}

const benchDir = import.meta.dirname;
const root = resolve(benchDir, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The gateway's own view during the storm, from /metrics (none for the bare relay). */
async function sampleGateway(url: string): Promise<Omit<Sample, 'atMs' | 'rssBytes'>> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  // prom-client's monitor (20 ms resolution, reset by each scrape) records whole intervals.
  const delayMs = (name: string) => Math.max(0, metric(text, name) * 1000 - 20);
  return {
    connections: metric(text, 'gateway_connections'),
    inProgress: metric(text, 'gateway_handshakes_in_progress'),
    refused: metric(text, 'gateway_connections_rejected_total', '{reason="SERVER_BUSY"}') || 0,
    loopDelayMeanMs: delayMs('nodejs_eventloop_lag_mean_seconds'),
    loopDelayMaxMs: delayMs('nodejs_eventloop_lag_max_seconds'),
  };
}

async function storm(ctx: { opts: StormOptions; fleet: LoadFleet; target: Target }, rate: number): Promise<StormFigures> {
  const { opts, fleet, target } = ctx;
  const pid = target.serverPids[0];
  await sleep(500);
  const rssBefore = rssBytes(pid);
  const timeline: Sample[] = [];
  let sampling = target.kind === 'gateway';
  const t0 = performance.now();
  const sampler = (async () => {
    while (sampling) {
      const figures = await sampleGateway(target.urls[0]).catch(() => undefined);
      if (figures) timeline.push({ atMs: performance.now() - t0, rssBytes: rssBytes(pid), ...figures });
      await sleep(500);
    }
  })();
  const cpu = startCpuMeter([pid]);
  const users = Array.from({ length: opts.clients }, (_, i) => `storm${i}`);
  const results = await fleet.connect(fleet.spread(users), target.urls[0], rate, JWT_SECRET, opts.clients);
  const connectCpu = cpu.stop();
  const connected = results.reduce((n, r) => n + r.connected, 0);
  const refusals = results.reduce((n, r) => n + r.refusals, 0);
  const elapsedMs = Math.max(...results.map((r) => r.elapsedMs));
  console.log(`  ${connected}/${opts.clients} connected in ${Math.round(elapsedMs)} ms; holding ${opts.holdMs} ms...`);
  await sleep(opts.holdMs);
  sampling = false;
  await sampler;
  const status = await fleet.status();
  const rssAfter = rssBytes(pid);
  return {
    server: target.kind,
    rate,
    clients: opts.clients,
    connected,
    failed: results.reduce((n, r) => n + r.failed, 0),
    refusals,
    refusedClients: results.reduce((n, r) => n + r.refusedClients, 0),
    errors: results.flatMap((r) => r.errors).slice(0, 5),
    elapsedMs,
    connectRate: connected / (elapsedMs / 1000),
    untilConnectedMs: Histogram.from(results.map((r) => r.latency)).summary(),
    serverCpuUsPerConnection: connected > 0 ? (connectCpu.cpuMs * 1000) / connected : NaN,
    serverCpuUsPerHandshake: (connectCpu.cpuMs * 1000) / (connected + refusals || 1),
    openAfterHold: status.reduce((n, s) => n + s.open, 0),
    rssPerConnectionKiB: connected > 0 ? (rssAfter - rssBefore) / connected / 1024 : NaN,
    peakRssBytes: Math.max(rssAfter, ...timeline.map((s) => s.rssBytes)),
    timeline,
  };
}

/** A sample's value from Prometheus text (NaN when absent). */
function metric(text: string, name: string, labels = ''): number {
  const escaped = labels.replace(/[{}"]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${name}${escaped}\\s+(\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

const r0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const r1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

function renderFigures(f: StormFigures): string {
  const lines = [
    `### ${f.server}: ${f.clients.toLocaleString('en-US')} clients offered at ${r0(f.rate)}/s`,
    '',
    '| figure | value |',
    '|---|---:|',
    `| connected (failed) | ${r0(f.connected)} (${r0(f.failed)}) |`,
    `| SERVER_BUSY refusals (clients refused at least once) | ${r0(f.refusals)} (${r0(f.refusedClients)}) |`,
    `| time to all connected | ${r0(f.elapsedMs)} ms |`,
    `| connect rate | ${r0(f.connectRate)}/s |`,
    `| first try → connected p50 / p99 / max | ${r1(f.untilConnectedMs.p50)} / ${r1(f.untilConnectedMs.p99)} / ${r1(f.untilConnectedMs.max)} ms |`,
    `| server CPU per connection, per handshake (SERVER_BUSY included) | ${r0(f.serverCpuUsPerConnection)} µs, ${r0(f.serverCpuUsPerHandshake)} µs |`,
    `| RSS per connection, peak RSS | ${r1(f.rssPerConnectionKiB)} KiB, ${r0(f.peakRssBytes / 2 ** 20)} MiB |`,
    `| open after the hold | ${r0(f.openAfterHold)} |`,
  ];
  if (f.errors.length) lines.push('', `errors: ${f.errors.join('; ')}`);
  if (f.timeline.length) lines.push('', renderTimeline(f.timeline));
  return lines.join('\n');
}

/** Connections made and refusals per second between readings, the delay, in progress, RSS. */
function renderTimeline(timeline: Sample[]): string {
  const rows = [
    '| t (s) | connected | connects/s | SERVER_BUSY/s | in progress | loop delay mean / max (ms) | RSS (MiB) |',
    '|---:|---:|---:|---:|---:|---:|---:|',
  ];
  let previous: Sample | undefined;
  let steady = 0;
  for (const s of timeline) {
    const seconds = previous ? (s.atMs - previous.atMs) / 1000 : 1;
    const made = previous ? (s.connections - previous.connections) / seconds : 0;
    const refused = previous ? (s.refused - previous.refused) / seconds : 0;
    // Once nothing changes for a few readings, the rest of the hold is left out.
    steady = previous && made === 0 && refused === 0 && s.inProgress === 0 ? steady + 1 : 0;
    if (steady <= 2) {
      rows.push(
        `| ${(s.atMs / 1000).toFixed(1)} | ${r0(s.connections)} | ${r0(made)} | ${r0(refused)} | ${r0(s.inProgress)} | ${r1(s.loopDelayMeanMs)} / ${r1(s.loopDelayMaxMs)} | ${r0(s.rssBytes / 2 ** 20)} |`,
      );
    }
    previous = s;
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const log = (line: string) => console.log(line);
  const machine = describeMachine();
  const build = ensureGatewayBuilt(root, log);
  const buildDir = await compileBench(benchDir);
  const placement = choosePlacement(true);
  pin(process.pid, placement.other);
  const group = new ProcessGroup(placement);
  group.installSignalHandlers();
  const startedAt = Date.now();
  const cpuProfDir = opts.cpuProf ? join(benchDir, 'results', 'profiles', 'storm') : undefined;
  if (cpuProfDir) for (const kind of ['bare', 'gateway']) mkdirSync(join(cpuProfDir, kind), { recursive: true });
  const servers = new Servers(group, root, buildDir);
  const fleet = new LoadFleet(group, buildDir, opts.loadProcs);
  const levers = Object.entries(opts.gatewayEnv).map(([k, v]) => `${k}=${v}`).join(' ');
  const header = [
    `# Handshake storm (${new Date(startedAt).toISOString()}, ${build.revision})`,
    '',
    `${machine.cores} cores (${machine.model}), load average ${machine.loadAverageStart.toFixed(2)} at start; ${placement.describe}.`,
    `Gateway: the bench's configuration (.env.example)${levers ? ` with ${levers}` : ''}; stand-in verify delay ${opts.verifyDelayMs} ms;`,
    `load: ${opts.loadProcs} processes, no bound on handshakes in flight.`,
  ].join('\n');
  log(header);
  const figures: StormFigures[] = [];
  try {
    for (const rate of opts.rates) {
      for (const kind of opts.bare ? (['bare', 'gateway'] as const) : (['gateway'] as const)) {
        log(`\n== ${kind}: ${opts.clients} clients at ${rate}/s`);
        const target = await servers.start(kind, { instances: 1, gatewayEnv: opts.gatewayEnv, cpuProfDir, verifyDelayMs: opts.verifyDelayMs });
        try {
          figures.push(await storm({ opts, fleet, target }, rate));
        } finally {
          await fleet.close().catch((e: Error) => log(`  closing load sockets failed: ${e.message}`));
          await target.stop();
        }
        log(renderFigures(figures[figures.length - 1]));
      }
    }
  } finally {
    await group.stopAll();
  }
  const profiles = cpuProfDir
    ? readdirSync(cpuProfDir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(cpuProfDir, f))
        .filter((f) => statSync(f).mtimeMs >= startedAt)
        .map((f) => summarizeProfile(f, 25))
    : [];
  const md = [header, ...figures.map(renderFigures), ...profiles.map((p) => `\`\`\`\n${renderProfileSummary(p)}\n\`\`\``)].join('\n\n');
  mkdirSync(join(benchDir, 'results'), { recursive: true });
  writeFileSync(join(benchDir, 'results', `${opts.out}.json`), JSON.stringify({ opts, machine, build, figures, profiles }, null, 2));
  writeFileSync(join(benchDir, 'results', `${opts.out}.md`), `${md}\n`);
  for (const p of profiles) log(`\n${renderProfileSummary(p)}`);
  log(`\nwrote bench/results/${opts.out}.json and .md`);
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  },
);

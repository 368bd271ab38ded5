/**
 * `npm run bench:storm`: a handshake storm against one gateway started as a new user would
 * (`node dist/main.js` with `.env.example`'s values, `AUTH_SERVICE_URL` and `CHAT_SERVICE_URL`
 * pointing at fast stand-ins in their own processes), to see where handshakes stop being served
 * promptly and what admission control (SERVER_BUSY) does about it. N clients are offered at a
 * rate from the load processes over loopback; a client refused with SERVER_BUSY comes back after
 * `retry_after_ms`. While they connect, the gateway's /metrics is read every 500 ms (event-loop
 * delay, handshakes in progress, refusals) and printed as a timeline.
 *
 *   npm run bench:storm                                    # 15,000 clients offered at 6,000/s
 *   npm run bench:storm -- --rates 1000,2000,3000,4000,6000 --clients 15000
 *   npm run bench:storm -- --gateway-env HANDSHAKE_MAX_LOOP_DELAY_MS=0 --gateway-env HANDSHAKE_MAX_PENDING=0   # admission off
 *   npm run bench:storm -- --remote --verify-delay-ms 50   # AUTH_MODE=remote against a slow auth-service
 *   npm run bench:storm -- --bare                          # the bare relay first, same storm
 *   npm run bench:storm -- --cpu-prof                      # + a profile summary of the gateway
 *
 * Writes bench/results/{out}.json and .md (default `storm`).
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { compileBench, ensureGatewayBuilt } from './lib/build.js';
import { LoadFleet } from './lib/fleet.js';
import { Histogram, type LatencySummary } from './lib/histogram.js';
import { choosePlacement, pin } from './lib/placement.js';
import { freePort, ProcessGroup, waitForHttp, whenReadyPort, type ManagedChild } from './lib/processes.js';
import { rssBytes, startCpuMeter } from './lib/procStats.js';
import { renderProfileSummary, summarizeProfile } from './lib/profileSummary.js';
import { describeMachine } from './lib/report.js';

interface StormOptions {
  clients: number;
  rates: number[];
  /** Handshakes a load process keeps in flight at most (a real storm has no such bound). */
  maxPending: number;
  loadProcs: number;
  gatewayEnv: Record<string, string>;
  remote: boolean;
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
  server: 'bare' | 'gateway';
  rate: number;
  clients: number;
  connected: number;
  failed: number;
  busyRefusals: number;
  errors: string[];
  elapsedMs: number;
  connectRate: number;
  handshakeMs: LatencySummary;
  untilConnectedMs: LatencySummary;
  serverCpuUsPerConnection: number;
  openAfterHold: number;
  rssPerConnectionKiB: number;
  peakRssBytes: number;
  timeline: Sample[];
}

const USAGE = `npm run bench:storm -- [--clients 15000] [--rates 6000[,…]] [--max-pending N] [--load-procs 3]
  [--gateway-env KEY=VALUE]... [--remote] [--verify-delay-ms 0] [--bare] [--cpu-prof] [--hold-ms 5000] [--out storm]`;

function parseOptions(argv: string[]): StormOptions {
  const opts: StormOptions = {
    clients: 15_000,
    rates: [6000],
    maxPending: 0,
    loadProcs: 3,
    gatewayEnv: {},
    remote: false,
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
    else if (arg === '--max-pending') opts.maxPending = number();
    else if (arg === '--load-procs') opts.loadProcs = Math.max(1, Math.min(8, number()));
    else if (arg === '--gateway-env') {
      const [key, ...rest] = value().split('=');
      opts.gatewayEnv[key] = rest.join('=');
    } else if (arg === '--remote') opts.remote = true;
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

/** The environment a measured process starts with: nothing inherited but PATH and HOME. */
const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' });

/** What a server under test offers the storm. */
interface StormTarget {
  url: string;
  pid: number;
  /** Reads the gateway's /metrics (undefined for the bare relay). */
  sample?: () => Promise<Omit<Sample, 'atMs' | 'rssBytes'>>;
  stop(): Promise<void>;
}

class StormRun {
  private readonly env = parseEnv(readFileSync(join(root, '.env.example'), 'utf8'));

  constructor(
    private readonly opts: StormOptions,
    private readonly group: ProcessGroup,
    private readonly fleet: LoadFleet,
    private readonly buildDir: string,
    private readonly profileDir: string | undefined,
  ) {}

  /** The JWT secret the gateway verifies with, as `.env.example` (or `--gateway-env`) sets it. */
  get jwtSecret(): string {
    return this.opts.gatewayEnv.JWT_SECRET ?? this.env.JWT_SECRET ?? fail('.env.example sets no JWT_SECRET');
  }

  async storm(server: 'bare' | 'gateway', rate: number, log: (line: string) => void): Promise<StormFigures> {
    const target = server === 'bare' ? await this.startBare() : await this.startGateway();
    try {
      return await this.measure(server, rate, target, log);
    } finally {
      await this.fleet.close().catch((e: Error) => log(`  closing load sockets failed: ${e.message}`));
      await target.stop();
    }
  }

  private async measure(server: 'bare' | 'gateway', rate: number, target: StormTarget, log: (line: string) => void): Promise<StormFigures> {
    const { clients, maxPending, holdMs } = this.opts;
    await sleep(500);
    const rssBefore = rssBytes(target.pid);
    const timeline: Sample[] = [];
    let sampling = true;
    const t0 = performance.now();
    const sampler = (async () => {
      while (sampling) {
        const figures = target.sample ? await target.sample().catch(() => undefined) : undefined;
        if (figures) timeline.push({ atMs: performance.now() - t0, rssBytes: rssBytes(target.pid), ...figures });
        await sleep(500);
      }
    })();
    const cpu = startCpuMeter([target.pid]);
    const users = Array.from({ length: clients }, (_, i) => `storm${i}`);
    const results = await this.fleet.connect(this.fleet.spread(users), target.url, rate, this.jwtSecret, maxPending || clients);
    const connectCpu = cpu.stop();
    const connected = results.reduce((n, r) => n + r.connected, 0);
    const elapsedMs = Math.max(...results.map((r) => r.elapsedMs));
    log(`  ${connected}/${clients} connected in ${Math.round(elapsedMs)} ms; holding ${holdMs} ms...`);
    await sleep(holdMs);
    sampling = false;
    await sampler;
    const status = await this.fleet.status();
    const rssAfter = rssBytes(target.pid);
    return {
      server,
      rate,
      clients,
      connected,
      failed: results.reduce((n, r) => n + r.failed, 0),
      busyRefusals: results.reduce((n, r) => n + r.busyRefusals, 0),
      errors: results.flatMap((r) => r.errors).slice(0, 5),
      elapsedMs,
      connectRate: connected / (elapsedMs / 1000),
      handshakeMs: Histogram.from(results.map((r) => r.latency)).summary(),
      untilConnectedMs: Histogram.from(results.map((r) => r.untilConnected)).summary(),
      serverCpuUsPerConnection: connected > 0 ? (connectCpu.cpuMs * 1000) / connected : NaN,
      openAfterHold: status.reduce((n, s) => n + s.open, 0),
      rssPerConnectionKiB: connected > 0 ? (rssAfter - rssBefore) / connected / 1024 : NaN,
      peakRssBytes: Math.max(rssAfter, ...timeline.map((s) => s.rssBytes)),
      timeline,
    };
  }

  private async startBare(): Promise<StormTarget> {
    const child = this.group.fork('bare-relay', join(this.buildDir, 'standins', 'bareRelay.js'), [], baseEnv(), this.profileArgs('bare'));
    const url = `http://127.0.0.1:${await whenReadyPort(child)}`;
    this.group.placeServer(child);
    return { url, pid: child.pid, stop: () => this.group.stop(child) };
  }

  private async startGateway(): Promise<StormTarget> {
    const standIn = (name: string, env: NodeJS.ProcessEnv) => this.group.fork(name, join(this.buildDir, 'standins', `${name}.js`), [], env);
    const chat = standIn('chatService', baseEnv());
    const auth = standIn('authService', { ...baseEnv(), JWT_SECRET: this.jwtSecret, VERIFY_DELAY_MS: String(this.opts.verifyDelayMs) });
    const helpers: ManagedChild[] = [chat, auth];
    for (const c of helpers) this.group.placeService(c);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...baseEnv(),
      ...this.env,
      ENV_FILE: '/nonexistent/.env',
      PORT: String(port),
      HOST: '127.0.0.1',
      AUTH_SERVICE_URL: `http://127.0.0.1:${await whenReadyPort(auth)}`,
      CHAT_SERVICE_URL: `http://127.0.0.1:${await whenReadyPort(chat)}`,
      // Every load client comes from 127.0.0.1: the per-address limit is for the real world.
      MAX_CONNECTIONS_PER_IP_PER_MIN: '100000000',
      ...(this.opts.remote ? { AUTH_MODE: 'remote' } : {}),
      ...this.opts.gatewayEnv,
    };
    const child = this.group.spawn('gateway', process.execPath, [...this.profileArgs('gateway'), join(root, 'dist', 'main.js')], { cwd: root, env });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/ready`, child);
    this.group.placeServer(child);
    return {
      url,
      pid: child.pid,
      sample: async () => {
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
      },
      stop: async () => {
        await this.group.stop(child, 15_000);
        await Promise.all(helpers.map((c) => this.group.stop(c)));
      },
    };
  }

  private profileArgs(kind: string): string[] {
    return this.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(this.profileDir, kind)}`] : [];
  }
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
    `| SERVER_BUSY refusals (each retried) | ${r0(f.busyRefusals)} |`,
    `| time to all connected | ${r0(f.elapsedMs)} ms |`,
    `| connect rate | ${r0(f.connectRate)}/s |`,
    `| handshake (try that got in) p50 / p99 / max | ${r1(f.handshakeMs.p50)} / ${r1(f.handshakeMs.p99)} / ${r1(f.handshakeMs.max)} ms |`,
    `| first try → connected p50 / p99 / max | ${r1(f.untilConnectedMs.p50)} / ${r1(f.untilConnectedMs.p99)} / ${r1(f.untilConnectedMs.max)} ms |`,
    `| server CPU per connection | ${r0(f.serverCpuUsPerConnection)} µs |`,
    `| RSS per connection, peak RSS | ${r1(f.rssPerConnectionKiB)} KiB, ${r0(f.peakRssBytes / 2 ** 20)} MiB |`,
    `| open after the hold | ${r0(f.openAfterHold)} |`,
  ];
  if (f.errors.length) lines.push('', `errors: ${f.errors.join('; ')}`);
  if (f.timeline.length) lines.push('', renderTimeline(f.timeline));
  return lines.join('\n');
}

/** The samples of each half second: connections made and refusals per second, delay, in progress, RSS. */
function renderTimeline(timeline: Sample[]): string {
  const rows = ['| t (s) | connected | connects/s | SERVER_BUSY/s | in progress | loop delay mean / max (ms) | RSS (MiB) |', '|---:|---:|---:|---:|---:|---:|---:|'];
  let previous: Sample | undefined;
  let steady = 0;
  for (const s of timeline) {
    if (previous && s.atMs - previous.atMs < 450) continue;
    const seconds = previous ? (s.atMs - previous.atMs) / 1000 : 1;
    const made = previous ? (s.connections - previous.connections) / seconds : 0;
    const refused = previous ? (s.refused - previous.refused) / seconds : 0;
    // Once nothing changes for a few rows, the rest of the hold is left out.
    steady = previous && made === 0 && refused === 0 && s.inProgress === 0 ? steady + 1 : 0;
    if (steady <= 2) {
      rows.push(`| ${(s.atMs / 1000).toFixed(1)} | ${r0(s.connections)} | ${r0(made)} | ${r0(refused)} | ${r0(s.inProgress)} | ${r1(s.loopDelayMeanMs)} / ${r1(s.loopDelayMaxMs)} | ${r0(s.rssBytes / 2 ** 20)} |`);
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
  const profileDir = opts.cpuProf ? join(benchDir, 'results', 'profiles', 'storm') : undefined;
  if (profileDir) for (const kind of ['bare', 'gateway']) mkdirSync(join(profileDir, kind), { recursive: true });
  const run = new StormRun(opts, group, new LoadFleet(group, buildDir, opts.loadProcs), buildDir, profileDir);
  const env = Object.entries(opts.gatewayEnv).map(([k, v]) => `${k}=${v}`).join(' ');
  const header = [
    `# Handshake storm (${new Date(startedAt).toISOString()}, ${build.revision})`,
    '',
    `${machine.cores} cores (${machine.model}), Node ${machine.node}, load average ${machine.loadAverageStart.toFixed(2)} at start; ${placement.describe}.`,
    `Gateway: .env.example${opts.remote ? ', AUTH_MODE=remote' : ''}${env ? `, ${env}` : ''}; auth stand-in verify delay ${opts.verifyDelayMs} ms;`,
    `load: ${opts.loadProcs} processes, ${opts.maxPending ? `at most ${opts.maxPending} handshakes in flight each` : 'no bound on handshakes in flight'}.`,
  ].join('\n');
  log(header);
  const figures: StormFigures[] = [];
  try {
    for (const rate of opts.rates) {
      for (const server of opts.bare ? (['bare', 'gateway'] as const) : (['gateway'] as const)) {
        log(`\n== ${server}: ${opts.clients} clients at ${rate}/s`);
        const f = await run.storm(server, rate, log);
        figures.push(f);
        log(renderFigures(f));
      }
    }
  } finally {
    await group.stopAll();
  }
  const profiles = profileDir
    ? readdirSync(profileDir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(profileDir, f))
        .filter((f) => statSync(f).mtimeMs >= startedAt)
        .map((f) => summarizeProfile(f, 25))
    : [];
  const md = [header, ...figures.map(renderFigures), ...profiles.map((p) => `\n\`\`\`\n${renderProfileSummary(p)}\n\`\`\``)].join('\n\n');
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

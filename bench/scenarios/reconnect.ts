/**
 * Scenario 6: a reconnect storm. Every client of one instance reconnects at once because the
 * instance is restarted as a deploy does it: SIGTERM (the gateway drains: `server_shutdown`,
 * then it closes every socket), the process exits, a new one starts on the same port with the
 * same environment. The clients behave like socket.io-client and the typed client
 * (lib/reconnect.ts): after the notice they come back `reconnect_after_ms` later, with
 * socket.io-client's backoff after a failed attempt, and after `retry_after_ms` when refused busy.
 *
 * The gateway runs as two instances on Redis: the second holds subscribers that watch the
 * restarted instance's users (`presence_subscribe`) and stay connected throughout. For each
 * watched user they must see exactly `user_disconnected` (the drain closed its last socket) then
 * `user_connected` (its first socket on the new process). The bare relay, which has no presence
 * and no drain, is restarted the same way as a baseline: it exits at once on SIGTERM.
 */
import { Histogram } from '../lib/histogram.js';
import { nowMs, SOCKET_IO_CLIENT_RECONNECTION, type PresenceResult, type ReconnectedResult } from '../lib/loadProtocol.js';
import type { ManagedChild } from '../lib/processes.js';
import { cpuTimes, rssBytes } from '../lib/procStats.js';
import { JWT_SECRET, type InstanceRestart, type ServerKind, type Target } from '../lib/servers.js';
import { connectAll, round, sleep, withTarget, type Row, type Scenario, type ScenarioContext } from '../lib/scenario.js';

/** presence_subscribe takes at most 1000 users per socket (contract section 3). */
const WATCHED_PER_SUBSCRIBER = 1000;
/** The issue's bound on SIGTERM → every client connected again. */
const ALL_BACK_WITHIN_MS = 15_000;
/** How long the orchestrator waits for everyone back; the clients give up after their policy's `giveUpAfterMs`. */
const ALL_BACK_TIMEOUT_MS = 60_000;
/** The old process is killed if it has not exited this long after SIGTERM (SHUTDOWN_TIMEOUT_MS is 10 s by default). */
const EXIT_TIMEOUT_MS = 30_000;
const RSS_SAMPLE_MS = 50;
const MiB = 2 ** 20;

interface ProcessProblems {
  /** Lines on stderr and error-level log lines. */
  errors: number;
  warnings: number;
  examples: string[];
}

interface ReconnectFigures {
  clients: number;
  restart: InstanceRestart;
  /** The clients' reports, summed over the load processes. */
  reconnection: ReconnectedResult;
  /** SIGTERM → the last client connected again (NaN when not all came back). */
  allBackAfterMs: number;
  firstLostAfterMs: number;
  firstBackAfterMs: number;
  backAfterMs: ReturnType<Histogram['summary']>;
  rssBeforeBytes: number;
  /** Highest RSS of the old process between SIGTERM and its exit. */
  oldPeakRssBytes: number;
  /** Highest RSS of the new process until every client was back and presence settled. */
  newPeakRssBytes: number;
  newRssAfterBytes: number;
  /** CPU the new process used from its start until every client was back. */
  newCpuMs: number;
  oldOutput: ProcessProblems;
  newOutput: ProcessProblems;
  /** Gateway: what the subscribers on the other instance saw. */
  presence?: PresenceResult;
  subscribers?: number;
  subscribersDropped?: number;
}

async function measure(ctx: ScenarioContext, kind: ServerKind): Promise<ReconnectFigures> {
  const redis = kind === 'gateway' ? await ctx.servers.startRedis() : undefined;
  try {
    return await withTarget(ctx, kind, redis ? { instances: 2, redisUrl: redis.url } : {}, async (target) => {
      if (redis) target.helperPids.redis = redis.pid;
      return await restartUnderLoad(ctx, target);
    });
  } finally {
    await redis?.stop();
  }
}

async function restartUnderLoad(ctx: ScenarioContext, target: Target): Promise<ReconnectFigures> {
  const { clients, connectRate } = ctx.profile.reconnect;
  const users = Array.from({ length: clients }, (_, i) => `r${i}`);
  const connected = await ctx.fleet.connect(ctx.fleet.spread(users), target.urls[0], connectRate, JWT_SECRET, 300, SOCKET_IO_CLIENT_RECONNECTION);
  const failed = connected.reduce((n, r) => n + r.failed, 0);
  if (failed > 0) throw new Error(`${failed} clients could not connect before the restart: ${connected.flatMap((r) => r.errors).slice(0, 3).join('; ')}`);
  const subscribers = target.urls.length > 1 ? await subscribeOnOtherInstance(ctx, target, users) : undefined;
  ctx.log(`  ${clients} clients on instance 0${subscribers ? `, ${subscribers} subscribers on instance 1 watching them` : ''}; restarting instance 0...`);
  await sleep(1000);

  const rssBeforeBytes = rssBytes(target.instances[0].pid);
  const oldPid = target.instances[0].pid;
  const oldOutput = watchProblems(target.instances[0]);
  let newOutput: ProcessProblems | undefined;
  const peaks = sampleRss(() => target.instances[0].pid);
  const since = nowMs();
  const reports = ctx.fleet.reconnected(since, ALL_BACK_TIMEOUT_MS);
  const restart = await ctx.servers.restartInstance(target, 0, EXIT_TIMEOUT_MS, (child) => (newOutput = watchProblems(child)));
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  ctx.log(`  old process exited ${s(restart.exitedAfterMs)} after SIGTERM (${restart.exitCode ?? restart.exitSignal}); new one listening at ${s(restart.listeningAfterMs)}, ready at ${s(restart.readyAfterMs)}`);
  const back = sum(await reports);
  const newPid = target.instances[0].pid;
  const newCpu = cpuTimes(newPid);
  const presence = subscribers ? mergePresence(await ctx.fleet.presence(1000, 15_000)) : undefined;
  const subscribersDropped = subscribers ? (await ctx.fleet.status()).reduce((n, s) => n + s.unexpectedCloses, 0) : undefined;
  peaks.stop();
  const figures: ReconnectFigures = {
    clients,
    restart,
    reconnection: back,
    allBackAfterMs: back.back === clients && back.lastBackAtMs !== undefined ? back.lastBackAtMs - since : NaN,
    firstLostAfterMs: back.firstLostAtMs !== undefined ? back.firstLostAtMs - since : NaN,
    firstBackAfterMs: back.back > 0 ? back.backAfter.minMs : NaN,
    backAfterMs: Histogram.from([back.backAfter]).summary(),
    rssBeforeBytes,
    oldPeakRssBytes: peaks.of(oldPid),
    newPeakRssBytes: peaks.of(newPid),
    newRssAfterBytes: rssBytes(newPid),
    newCpuMs: newCpu.userMs + newCpu.systemMs,
    oldOutput,
    newOutput: newOutput ?? { errors: 0, warnings: 0, examples: [] },
    presence,
    subscribers,
    subscribersDropped,
  };
  ctx.log(`  ${describe(figures)}`);
  return figures;
}

/** Subscribers on instance 1, each watching up to 1000 of the clients; returns how many. */
async function subscribeOnOtherInstance(ctx: ScenarioContext, target: Target, users: string[]): Promise<number> {
  const subscriptions: Array<[string, string[]]> = [];
  for (let i = 0; i < users.length; i += WATCHED_PER_SUBSCRIBER) {
    subscriptions.push([`w${subscriptions.length}`, users.slice(i, i + WATCHED_PER_SUBSCRIBER)]);
  }
  const byProc = ctx.fleet.spread(subscriptions);
  await connectAll(ctx, byProc.map((subs) => subs.map(([subscriber]) => subscriber)), target.urls[1]);
  const results = await ctx.fleet.subscribe(byProc);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const online = results.reduce((n, r) => n + r.online, 0);
  if (failed > 0 || online !== users.length) {
    throw new Error(`presence_subscribe: ${failed} failed, ${online}/${users.length} watched users online: ${results.flatMap((r) => r.errors).slice(0, 3).join('; ')}`);
  }
  return subscriptions.length;
}

/** Peak RSS by pid of whichever process `pid()` names at each sample. */
function sampleRss(pid: () => number): { of(pid: number): number; stop(): void } {
  const peaks = new Map<number, number>();
  const sample = () => {
    const p = pid();
    peaks.set(p, Math.max(peaks.get(p) ?? 0, rssBytes(p)));
  };
  sample();
  const timer = setInterval(sample, RSS_SAMPLE_MS);
  return { of: (p) => peaks.get(p) ?? NaN, stop: () => clearInterval(timer) };
}

/** Counts what a process reports as a problem from now on: any stderr line, and error- and warn-level log lines. */
function watchProblems(child: ManagedChild): ProcessProblems {
  const problems: ProcessProblems = { errors: 0, warnings: 0, examples: [] };
  const onLines = (fromStderr: boolean) => {
    let rest = '';
    return (chunk: Buffer) => {
      const lines = (rest + String(chunk)).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        const isError = fromStderr || line.includes('"level":"error"');
        const isWarning = !isError && line.includes('"level":"warn"');
        if (isError) problems.errors++;
        if (isWarning) problems.warnings++;
        if ((isError || isWarning) && problems.examples.length < 5) problems.examples.push(line.slice(0, 300));
      }
    };
  };
  child.proc.stdout?.on('data', onLines(false));
  child.proc.stderr?.on('data', onLines(true));
  return problems;
}

function sum(reports: ReconnectedResult[]): ReconnectedResult {
  const failures: Record<string, number> = {};
  for (const r of reports) for (const [cause, n] of Object.entries(r.failures)) failures[cause] = (failures[cause] ?? 0) + n;
  const total = (f: (r: ReconnectedResult) => number) => reports.reduce((n, r) => n + f(r), 0);
  const defined = (xs: Array<number | undefined>) => xs.filter((x): x is number => x !== undefined);
  const lost = defined(reports.map((r) => r.firstLostAtMs));
  const back = defined(reports.map((r) => r.lastBackAtMs));
  return {
    users: total((r) => r.users),
    back: total((r) => r.back),
    down: total((r) => r.down),
    gaveUp: total((r) => r.gaveUp),
    neverLost: total((r) => r.neverLost),
    noticed: total((r) => r.noticed),
    attempts: total((r) => r.attempts),
    failures,
    longestRetryAfterMs: Math.max(...reports.map((r) => r.longestRetryAfterMs)),
    firstLostAtMs: lost.length ? Math.min(...lost) : undefined,
    lastBackAtMs: back.length ? Math.max(...back) : undefined,
    backAfter: Histogram.from(reports.map((r) => r.backAfter)).toJSON(),
    errors: [...new Set(reports.flatMap((r) => r.errors))].slice(0, 8),
  };
}

function mergePresence(results: PresenceResult[]): PresenceResult {
  const merged: PresenceResult = { pairs: 0, patterns: {}, examples: {}, unwatched: 0 };
  for (const r of results) {
    merged.pairs += r.pairs;
    merged.unwatched += r.unwatched;
    for (const [pattern, n] of Object.entries(r.patterns)) merged.patterns[pattern] = (merged.patterns[pattern] ?? 0) + n;
    for (const [pattern, keys] of Object.entries(r.examples)) merged.examples[pattern] = [...(merged.examples[pattern] ?? []), ...keys].slice(0, 3);
  }
  return merged;
}

/** `DC 10000` etc.: how many (subscriber, user) pairs saw each sequence, most common first. */
function patternsCell(p: PresenceResult): string {
  return Object.entries(p.patterns)
    .sort((a, b) => b[1] - a[1])
    .map(([pattern, n]) => `${pattern || 'none'} ${n}`)
    .join(', ');
}

function failuresCell(f: ReconnectFigures): string {
  const entries = Object.entries(f.reconnection.failures).sort((a, b) => b[1] - a[1]);
  const longest = f.reconnection.longestRetryAfterMs;
  const told = longest > 0 ? ` (retry_after_ms up to ${(longest / 1000).toFixed(1)} s)` : '';
  return entries.length ? `${entries.map(([cause, n]) => `${cause} ${n}`).join(', ')}${told}` : 'none';
}

/** Exactly one `user_disconnected` then one `user_connected` for every watched user, nothing else. */
function presenceExact(p: PresenceResult): boolean {
  return p.patterns.DC === p.pairs && p.unwatched === 0;
}

function noProcessError(f: ReconnectFigures): boolean {
  return f.restart.exitCode === 0 && f.oldOutput.errors === 0 && f.newOutput.errors === 0;
}

function describe(f: ReconnectFigures): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
  const r = f.reconnection;
  return [
    `first client lost ${s(f.firstLostAfterMs)} after SIGTERM; ${r.back}/${f.clients} back, the first after ${s(f.firstBackAfterMs)}, all after ${s(f.allBackAfterMs)}; p50 ${s(f.backAfterMs.p50)}, p99 ${s(f.backAfterMs.p99)}`,
    `${r.noticed} noticed server_shutdown; ${r.attempts} attempts; failed: ${failuresCell(f)}${r.down ? `; ${r.down} still down (${r.gaveUp} gave up)` : ''}${r.neverLost ? `; ${r.neverLost} never lost` : ''}`,
    `RSS: old ${mib(f.rssBeforeBytes)} before SIGTERM, peak ${mib(f.oldPeakRssBytes)} while draining; new peak ${mib(f.newPeakRssBytes)}, ${mib(f.newRssAfterBytes)} with everyone back`,
    `old process: exit ${f.restart.exitCode ?? f.restart.exitSignal}, ${f.oldOutput.errors} errors, ${f.oldOutput.warnings} warnings; new: ${f.newOutput.errors} errors, ${f.newOutput.warnings} warnings`,
    ...[...f.oldOutput.examples, ...f.newOutput.examples].map((line) => `    ${line}`),
    ...(f.presence ? [`subscribers saw (D = user_disconnected, C = user_connected): ${patternsCell(f.presence)}; ${f.subscribersDropped} subscribers dropped`] : []),
    ...r.errors.map((e) => `    client: ${e}`),
  ].join('\n  ');
}

function rows(f: Partial<Record<ServerKind, ReconnectFigures>>): Row[] {
  const pick = (g: (x: ReconnectFigures) => number | string) =>
    Object.fromEntries(Object.entries(f).map(([k, v]) => [k, g(v)])) as Row['values'];
  const gw = f.gateway;
  const seconds = (ms: number) => round(ms / 1000, 2);
  const mib = (bytes: number) => round(bytes / MiB);
  return [
    { metric: 'clients back after the restart', unit: '', values: pick((x) => `${x.reconnection.back}/${x.clients}`), better: 'none' },
    {
      metric: 'SIGTERM → every client connected again',
      unit: 's',
      values: pick((x) => seconds(x.allBackAfterMs)),
      better: 'lower',
      target: gw ? { text: `gateway ≤ ${ALL_BACK_WITHIN_MS / 1000} s`, pass: gw.allBackAfterMs <= ALL_BACK_WITHIN_MS } : undefined,
    },
    {
      metric: 'SIGTERM → first client disconnected / old process exited / new one listening / ready',
      unit: 's',
      values: pick((x) => [x.firstLostAfterMs, x.restart.exitedAfterMs, x.restart.listeningAfterMs, x.restart.readyAfterMs].map(seconds).join(' / ')),
      better: 'none',
    },
    { metric: 'client back after SIGTERM: first / p50 / p99', unit: 's', values: pick((x) => `${seconds(x.firstBackAfterMs)} / ${seconds(x.backAfterMs.p50)} / ${seconds(x.backAfterMs.p99)}`), better: 'none' },
    { metric: 'connect attempts per client', unit: '', values: pick((x) => round(x.reconnection.attempts / x.clients, 2)), better: 'lower' },
    { metric: 'failed attempts by cause', unit: '', values: pick(failuresCell), better: 'none' },
    { metric: 'RSS of the old process: before SIGTERM / peak while draining', unit: 'MiB', values: pick((x) => `${mib(x.rssBeforeBytes)} / ${mib(x.oldPeakRssBytes)}`), better: 'none' },
    { metric: 'peak RSS of the new process (until everyone was back)', unit: 'MiB', values: pick((x) => mib(x.newPeakRssBytes)), better: 'lower', headline: true },
    { metric: 'new process CPU until everyone was back (start-up included)', unit: 'ms', values: pick((x) => round(x.newCpuMs)), better: 'lower' },
    {
      metric: 'per watched user, subscribers on the other instance saw (D = user_disconnected, C = user_connected)',
      unit: 'pairs',
      values: pick((x) => (x.presence ? `${patternsCell(x.presence)}${x.subscribersDropped ? `; ${x.subscribersDropped} subscribers dropped` : ''}` : 'n/a')),
      better: 'none',
      target: gw?.presence
        ? { text: 'DC for every user: exactly one user_connected', pass: presenceExact(gw.presence) && gw.subscribersDropped === 0 }
        : undefined,
    },
    {
      metric: 'old process exit; error lines old / new',
      unit: '',
      values: pick((x) => `${x.restart.exitCode ?? x.restart.exitSignal}; ${x.oldOutput.errors} / ${x.newOutput.errors}`),
      better: 'none',
      target: gw ? { text: 'exit 0, no process error', pass: noProcessError(gw) } : undefined,
    },
  ];
}

export const reconnect: Scenario = {
  name: 'reconnect',
  title: 'Reconnect storm: one instance restarted (SIGTERM, drain, new process) under its clients',
  async run(ctx) {
    if (!ctx.servers.hasRedis()) {
      const why = 'SKIPPED: redis-server is not installed (apt-get install redis-server); the subscribers who stay need a second instance on Redis';
      ctx.log(` ${why}`);
      return { name: 'reconnect', title: this.title, figures: {}, rows: [], skipped: why };
    }
    const figures: Partial<Record<ServerKind, ReconnectFigures>> = {};
    for (const kind of ctx.opts.servers) {
      ctx.log(` ${kind}: ${ctx.profile.reconnect.clients} clients, instance restarted`);
      figures[kind] = await measure(ctx, kind);
    }
    return { name: 'reconnect', title: this.title, figures, rows: rows(figures) };
  },
};

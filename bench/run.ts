/**
 * `npm run bench`: measures the gateway, started with `.env.example`'s values, against a bare
 * Socket.IO relay, each server in its own process on loopback, driven by separate load processes;
 * writes bench/results/latest.{json,md}, prints the tables and, after a full run, rewrites the
 * headline table of docs/performance.md. `npm run bench -- --quick` for a short run; `--help` for the options.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { compileBench, ensureGatewayBuilt, gitRevision, type GatewayBuild } from './lib/build.js';
import { LoadFleet } from './lib/fleet.js';
import { SCENARIOS as SCENARIO_ORDER, parseOptions, type BenchOptions, type ScenarioName } from './lib/options.js';
import { choosePlacement, pin } from './lib/placement.js';
import { ProcessGroup } from './lib/processes.js';
import { renderProfileSummary, summarizeProfile, type ProfileSummary } from './lib/profileSummary.js';
import { describeMachine, publish, renderMarkdown, writeReport } from './lib/report.js';
import { measureSparseWork } from './lib/sparseWork.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './lib/scenario.js';
import { Servers } from './lib/servers.js';
import { connections } from './scenarios/connections.js';
import { fanout } from './scenarios/fanout.js';
import { reconnect } from './scenarios/reconnect.js';
import { redis } from './scenarios/redis.js';
import { relay, relaySingle } from './scenarios/relay.js';
import { storm } from './scenarios/storm.js';

/** Every scenario by name; they run in the order of `SCENARIOS` in lib/options.ts (later ones use earlier figures). */
const SCENARIOS: Record<ScenarioName, Scenario> = {
  connections,
  relay,
  'relay-single': relaySingle,
  fanout,
  storm,
  redis,
  reconnect,
};
const benchDir = import.meta.dirname;
const root = resolve(benchDir, '..');

function options(): BenchOptions {
  try {
    return parseOptions(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const opts = options();
  const startedAt = new Date();
  const t0 = performance.now();
  const log = (line: string) => console.log(line);
  const machine = describeMachine();
  log(`bench (${opts.profile.name}): ${opts.only.join(', ')} against ${opts.servers.join(' and ')}; load average ${machine.loadAverageStart.toFixed(2)}`);
  if (machine.loadAverageStart > 0.5) log('WARNING: the machine is busy (load average > 0.5): figures will be rough.');
  const build: GatewayBuild = opts.noBuild ? { state: 'fresh', note: 'not checked (--no-build)', revision: gitRevision(root) } : ensureGatewayBuilt(root, log);
  const buildDir = await compileBench(benchDir);

  const placement = choosePlacement(opts.pin);
  pin(process.pid, placement.other);
  log(`placement: ${placement.describe}`);
  const group = new ProcessGroup(placement);
  group.installSignalHandlers();
  machine.sparseWork = await measureSparseWork(group, buildDir);
  log(`sparse work: ${machine.sparseWork.sparseUs.toFixed(1)} µs per unit every 10 ms, ${machine.sparseWork.denseUs.toFixed(1)} every 1 ms`);
  const cpuProfDir = opts.cpuProf ? join(benchDir, 'results', 'profiles') : undefined;
  if (cpuProfDir) for (const kind of opts.servers) mkdirSync(join(cpuProfDir, kind), { recursive: true });
  let step = 0;
  const ctx: ScenarioContext = {
    opts,
    profile: opts.profile,
    servers: new Servers(group, root, buildDir),
    fleet: new LoadFleet(group, buildDir, opts.loadProcesses),
    cpuProfDir,
    serverOrder: opts.servers,
    earlier: new Map(),
    log,
    nextStep: () => ++step,
  };
  const results: ScenarioResult[] = [];
  try {
    const chosen = SCENARIO_ORDER.filter((name) => opts.only.includes(name)).map((name) => SCENARIOS[name]);
    for (const [index, scenario] of chosen.entries()) {
      const s0 = performance.now();
      // Every other scenario measures the gateway first: neither server always runs on a fresh machine.
      ctx.serverOrder = index % 2 === 0 ? opts.servers : [...opts.servers].reverse();
      log(`\n== ${scenario.title} (${ctx.serverOrder.join(', then ')})`);
      try {
        const result = await scenario.run(ctx);
        results.push(result);
        ctx.earlier.set(scenario.name, result);
      } catch (e) {
        const error = e as Error;
        log(`  FAILED: ${error.stack ?? error.message}`);
        results.push({ name: scenario.name, title: scenario.title, figures: { error: error.message }, rows: [], skipped: `FAILED: ${error.message}` });
      }
      log(`  (${((performance.now() - s0) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await group.stopAll();
  }
  machine.loadAverageEnd = loadavg()[0];
  machine.serverNode = ctx.servers.nodeVersions;
  const profiles = cpuProfDir ? profilesSince(cpuProfDir, startedAt) : [];
  const report = { root, opts, machine, placement: placement.describe, build, startedAt, durationS: (performance.now() - t0) / 1000, results, profiles };
  const files = writeReport(report, join(benchDir, 'results'));
  console.log(`\n${renderMarkdown(report)}`);
  log(`wrote ${files.json} and ${files.md}`);
  const published = join(root, 'docs', 'performance.md');
  if (opts.unpublishedBecause.length === 0) {
    publish(report, published);
    log(`rewrote the headline table in ${published}`);
  } else log(`${published} left as it was (${opts.unpublishedBecause.join(', ')}: only a full run of everything in the default configuration publishes)`);
  if (cpuProfDir) {
    for (const p of profiles) log(`\n${renderProfileSummary(p)}`);
    log(`\nCPU profiles in ${cpuProfDir}/{bare,gateway} (open them in Chrome DevTools or speedscope for the call trees)`);
  }
}

/** Summaries of the server profiles written during this run (one per server process). */
function profilesSince(dir: string, since: Date): ProfileSummary[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= since.getTime())
    .map((f) => summarizeProfile(f));
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  },
);

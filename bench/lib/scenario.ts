/**
 * What every scenario receives and returns: the shared processes and options in, figures for
 * the JSON file and rows for the Markdown table out.
 */
import type { LoadFleet } from './fleet.js';
import type { BenchOptions, Profile, ScenarioName } from './options.js';
import { JWT_SECRET, type ServerKind, type Servers, type StartOptions, type Target } from './servers.js';
import type { RampResult } from './ramp.js';
import { measureWindow, type WindowResult, type WindowSpec } from './window.js';

export interface ScenarioContext {
  opts: BenchOptions;
  profile: Profile;
  servers: Servers;
  fleet: LoadFleet;
  /** Directory for gateway CPU profiles, when `--cpu-prof`. */
  cpuProfDir?: string;
  /**
   * The servers to measure, in the order this scenario measures them: `run.ts` swaps the order
   * from one scenario to the next, so neither server always goes first.
   */
  serverOrder: ServerKind[];
  /** Results of the scenarios that ran before (the Redis scenario compares with the relay). */
  earlier: Map<ScenarioName, ScenarioResult>;
  log(line: string): void;
  nextStep(): number;
}

/** One line of the table: a figure for each server, and the target when it has one. */
export interface Row {
  metric: string;
  unit: string;
  values: Partial<Record<ServerKind, number | string>>;
  /** How the gateway/baseline ratio reads; `none` shows no ratio. */
  better: 'higher' | 'lower' | 'none';
  target?: { text: string; pass?: boolean };
  /** In the published table (docs/performance.md) although it has no target. */
  headline?: boolean;
}

export interface ScenarioResult {
  name: ScenarioName;
  title: string;
  /** A short name for the published table's first column (default: the title). */
  label?: string;
  /** A line printed under the scenario's table (where a figure comes from, say). */
  note?: string;
  /** Every figure, by server kind (raw windows, ramps, counts). */
  figures: Partial<Record<ServerKind, unknown>> & Record<string, unknown>;
  rows: Row[];
  skipped?: string;
}

export interface Scenario {
  name: ScenarioName;
  title: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

/** Starts a server, runs `fn` against it, and always closes the load sockets and stops it. */
export async function withTarget<T>(
  ctx: ScenarioContext,
  kind: ServerKind,
  start: Partial<StartOptions>,
  fn: (target: Target) => Promise<T>,
): Promise<T> {
  const target = await ctx.servers.start(kind, {
    instances: 1,
    gatewayEnv: ctx.opts.gatewayEnv,
    cpuProfDir: ctx.cpuProfDir,
    ...start,
  });
  try {
    return await fn(target);
  } finally {
    await ctx.fleet.close().catch((e: Error) => ctx.log(`  closing load sockets failed: ${e.message}`));
    await target.stop();
  }
}

/** A window against `target` with the profile's content size and drain time. */
export function windowOn(
  ctx: ScenarioContext,
  target: Target,
  spec: Omit<WindowSpec, 'contentBytes' | 'drainMs'>,
): Promise<WindowResult> {
  return measureWindow(
    { fleet: ctx.fleet, target, nextStep: ctx.nextStep },
    { contentBytes: ctx.profile.contentBytes, drainMs: ctx.profile.drainMs, ...spec },
  );
}

/** Connects every user of `usersByProc` to `url` and fails loudly if any could not connect. */
export async function connectAll(ctx: ScenarioContext, usersByProc: string[][], url: string, rate = 2000): Promise<void> {
  const results = await ctx.fleet.connect(usersByProc, url, rate, JWT_SECRET);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  if (failed > 0) throw new Error(`${failed} sockets could not connect to ${url}: ${results.flatMap((r) => r.errors).slice(0, 3).join('; ')}`);
  const refused = results.reduce((n, r) => n + r.refusedClients, 0);
  if (refused > 0) ctx.log(`  ${refused} clients refused with SERVER_BUSY connected on retry`);
}

/** Pairs of users `{prefix}a{i}` / `{prefix}b{i}`, each pair on one load process. */
export function pairsOn(ctx: ScenarioContext, prefix: string, count: number): Array<Array<[string, string]>> {
  const pairs = Array.from({ length: count }, (_, i) => [`${prefix}a${i}`, `${prefix}b${i}`] as [string, string]);
  return ctx.fleet.spread(pairs);
}

/** Both directions of every pair: each user sends to its partner. */
export function bothWays(pairsByProc: Array<Array<[string, string]>>): Array<Array<[string, string]>> {
  return pairsByProc.map((pairs) => pairs.flatMap(([a, b]) => [[a, b] as [string, string], [b, a] as [string, string]]));
}

export const round = (x: number, digits = 0) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : NaN);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sustained rate for the table: a number, or `< {first step}` when not even the first step held. */
export function sustainedCell(r: RampResult, rateOf: (w: WindowResult) => number): number | string {
  if (r.sustained) return round(rateOf(r.sustained));
  return r.steps.length ? `< ${round(r.steps[0].rate)}` : 'n/a';
}

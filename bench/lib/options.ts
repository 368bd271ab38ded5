/**
 * Command-line options and the run profiles: `--quick` (about 2 minutes, checks the
 * harness and gives rough figures), `--fixed` and the full run (about 15-20 minutes), the only
 * one that rewrites docs/performance.md.
 */
import { SERVER_KINDS, type ServerKind } from './servers.js';
import type { RampSettings } from './ramp.js';

/** In the order they run; `run.ts` maps each name to its module. */
export const SCENARIOS = ['connections', 'relay', 'relay-single', 'fanout', 'storm', 'redis', 'reconnect'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Profile {
  name: 'quick' | 'full' | 'fixed';
  /** Bound on p99 (ack and delivery) for a rate to "hold". */
  p99BoundMs: number;
  /** Wait for acks/deliveries after a window's last send. */
  drainMs: number;
  contentBytes: number;
  warmupMs: number;
  connections: { sockets: number; rate: number; idleMs: number };
  relay: { pairs: number; fixedRate: number; fixedMs: number; ramp: RampSettings; at70Ms: number };
  fanout: { cases: Array<{ size: number; rooms: number }>; ramp: RampSettings };
  storm: { pairs: number; fixedRate: number; fixedMs: number; ramp: RampSettings };
  /** `warmupMs`: the two instances' extra warm-up at the fixed rate (each carries half of it). */
  redis: { fixedMs: number; warmupMs: number; ramp?: RampSettings };
  /** Clients on the restarted instance, connected at `connectRate` beforehand. */
  reconnect: { clients: number; connectRate: number };
}

const QUICK: Profile = {
  name: 'quick',
  p99BoundMs: 50,
  drainMs: 2000,
  contentBytes: 100,
  warmupMs: 1000,
  connections: { sockets: 2000, rate: 6000, idleMs: 3000 },
  relay: { pairs: 100, fixedRate: 1000, fixedMs: 2000, ramp: { startRate: 1000, factor: 1.7, maxSteps: 7, stepMs: 1000 }, at70Ms: 2000 },
  fanout: {
    cases: [
      { size: 10, rooms: 4 },
      { size: 100, rooms: 1 },
      { size: 1000, rooms: 1 },
    ],
    ramp: { startRate: 5000, factor: 2, maxSteps: 4, stepMs: 1000 },
  },
  storm: { pairs: 100, fixedRate: 2000, fixedMs: 1500, ramp: { startRate: 2000, factor: 1.8, maxSteps: 5, stepMs: 800 } },
  redis: { fixedMs: 2000, warmupMs: 2000 },
  reconnect: { clients: 2000, connectRate: 2000 },
};

const FULL: Profile = {
  name: 'full',
  p99BoundMs: 50,
  drainMs: 5000,
  contentBytes: 100,
  warmupMs: 2000,
  // The connect storm of issue 15: 15,000 clients offered at 6,000/s.
  connections: { sockets: 15_000, rate: 6000, idleMs: 30_000 },
  // Relay steps last 6 s: the sustained rate sets the 10-second window at 70 %, so a step has to
  // include an old-generation collection (every 3-5 s at these rates), as that window does.
  relay: { pairs: 500, fixedRate: 1500, fixedMs: 10_000, ramp: { startRate: 1000, factor: 1.3, maxSteps: 16, stepMs: 6000, refineSteps: 2 }, at70Ms: 10_000 },
  fanout: {
    cases: [
      { size: 10, rooms: 20 },
      { size: 100, rooms: 4 },
      { size: 1000, rooms: 1 },
    ],
    ramp: { startRate: 5000, factor: 1.4, maxSteps: 12, stepMs: 2000, refineSteps: 2 },
  },
  storm: { pairs: 500, fixedRate: 3000, fixedMs: 5000, ramp: { startRate: 2000, factor: 1.4, maxSteps: 12, stepMs: 2000, refineSteps: 2 } },
  redis: { fixedMs: 10_000, warmupMs: 10_000, ramp: { startRate: 1000, factor: 1.3, maxSteps: 12, stepMs: 2000, refineSteps: 2 } },
  reconnect: { clients: 10_000, connectRate: 2000 },
};

/** The full profile's fixed-rate windows only, no ramps: a lever's before/after and its profile in ~3 minutes. */
const FIXED: Profile = {
  ...FULL,
  name: 'fixed',
  connections: { sockets: 5000, rate: 6000, idleMs: 5000 },
  relay: { ...FULL.relay, ramp: { ...FULL.relay.ramp, maxSteps: 0 } },
  fanout: { ...FULL.fanout, ramp: { ...FULL.fanout.ramp, maxSteps: 1 } },
  storm: { ...FULL.storm, ramp: { ...FULL.storm.ramp, maxSteps: 0 } },
  redis: { fixedMs: FULL.redis.fixedMs, warmupMs: FULL.redis.warmupMs },
};

export interface BenchOptions {
  profile: Profile;
  only: ScenarioName[];
  servers: ServerKind[];
  loadProcesses: number;
  /** Levers: gateway environment over `.env.example`'s values (`--gateway-env KEY=VALUE`, repeatable). */
  gatewayEnv: Record<string, string>;
  /** Write `node --cpu-prof` profiles of the servers to bench/results/profiles/{bare,gateway}. */
  cpuProf: boolean;
  /** Servers on CPU 0, everything else on the other cores (`--no-pin` turns it off). */
  pin: boolean;
  /** Skip `npm run build` even when dist/ looks stale. */
  noBuild: boolean;
  /** Results file stem in bench/results (default `latest`). */
  out: string;
  /**
   * Why this run does not rewrite docs/performance.md (empty: it does). Only a full run of every
   * scenario against both servers, in the default configuration and unprofiled, publishes.
   */
  unpublishedBecause: string[];
}

const USAGE = `npm run bench -- [--quick | --fixed] [--only ${SCENARIOS.join(',')}] [--servers bare,gateway]
  [--load-procs 3] [--gateway-env KEY=VALUE]... [--cpu-prof] [--relay-rate N] [--fanout-rate N] [--no-pin] [--no-build]
  [--out latest] [--no-publish]`;

export function parseOptions(argv: string[]): BenchOptions {
  const opts: BenchOptions = {
    profile: FULL,
    only: [...SCENARIOS],
    servers: [...SERVER_KINDS],
    loadProcesses: 3,
    // The gateway as a user starts it: `.env.example`'s values (lib/gatewayEnv.ts), no levers.
    gatewayEnv: {},
    cpuProf: false,
    noBuild: false,
    pin: true,
    out: 'latest',
    unpublishedBecause: [],
  };
  const unpublished = (why: string) => opts.unpublishedBecause.push(why);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--quick') opts.profile = QUICK;
    else if (arg === '--full') opts.profile = FULL;
    else if (arg === '--fixed') opts.profile = FIXED;
    else if (arg === '--no-publish') unpublished(arg);
    else if (arg === '--relay-rate') {
      unpublished(arg);
      // The relay's fixed-rate window at another rate (a profile under heavier load).
      const rate = Number(value());
      opts.profile = { ...opts.profile, relay: { ...opts.profile.relay, fixedRate: rate } };
    }
    else if (arg === '--fanout-rate') {
      unpublished(arg);
      // The fan-out's first step at another rate in deliveries/s (with --fixed: its only one).
      const rate = Number(value());
      opts.profile = { ...opts.profile, fanout: { ...opts.profile.fanout, ramp: { ...opts.profile.fanout.ramp, startRate: rate } } };
    }
    else if (arg === '--only') {
      opts.only = list(value(), SCENARIOS, arg);
      if (new Set(opts.only).size < SCENARIOS.length) unpublished(arg);
    } else if (arg === '--servers') {
      opts.servers = list(value(), SERVER_KINDS, arg);
      if (new Set(opts.servers).size < SERVER_KINDS.length) unpublished(arg);
    }
    else if (arg === '--load-procs') opts.loadProcesses = Math.max(1, Math.min(8, Number(value()) || 3));
    else if (arg === '--gateway-env') {
      const [key, ...rest] = value().split('=');
      opts.gatewayEnv[key] = rest.join('=');
      unpublished(arg);
    } else if (arg === '--cpu-prof') {
      opts.cpuProf = true;
      unpublished(arg);
    }
    else if (arg === '--no-build') opts.noBuild = true;
    else if (arg === '--no-pin') opts.pin = false;
    else if (arg === '--out') opts.out = value().replace(/[^\w.-]/g, '');
    else if (arg === '--help' || arg === '-h') throw new Error(USAGE);
    else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  if (opts.profile.name !== 'full') unpublished(`--${opts.profile.name}`);
  return opts;
}

function list<T extends string>(raw: string, allowed: readonly T[], flag: string): T[] {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((s) => !allowed.includes(s as T));
  if (bad.length) throw new Error(`${flag}: unknown ${bad.join(', ')} (choose from ${allowed.join(', ')})`);
  return items as T[];
}

/**
 * Starts the servers under test, each in its own process on loopback: the gateway
 * (`node dist/main.js`, configured as `lib/gatewayEnv.ts` says) with a fast stand-in for the
 * chat-service and the auth-service, or the bare Socket.IO relay; one or two instances, on Redis for two.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { gatewayEnv } from './gatewayEnv.js';
import { freePort, waitForHttp, waitForListening, whenReadyPort, type ManagedChild, type ProcessGroup } from './processes.js';

export type ServerKind = 'bare' | 'gateway';
export const SERVER_KINDS: ServerKind[] = ['bare', 'gateway'];

/** What a scenario talks to and measures. */
export interface Target {
  kind: ServerKind;
  /** `http://127.0.0.1:PORT` of each instance. */
  urls: string[];
  /** The socket servers' processes: their CPU is "server CPU". */
  serverPids: number[];
  /** The socket servers' processes by instance (`Servers.restartInstance` replaces one). */
  instances: ManagedChild[];
  /** Helper processes measured apart (chat stand-in, redis-server). */
  helperPids: Record<string, number>;
  /** V8 heap used, summed over instances (gateway: from /metrics). */
  heapBytes(): Promise<number | undefined>;
  /**
   * The servers' event-loop delay since the previous call (p99 and max over instances, ms;
   * gateway only: prom-client's monitor, reset on every scrape of /metrics).
   */
  eventLoopDelay(): Promise<{ p99Ms: number; maxMs: number } | undefined>;
  /** Open connections, summed over instances, as the servers count them. */
  connections(): Promise<number>;
  /** Calls the stand-in services received so far, by operation (gateway only; `standins/chatService.ts`). */
  chatCalls(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The stand-in answers 404 on its batch endpoints: services without them (gateway only). */
  withoutBatchEndpoints?: boolean;
  /** The stand-in answers `POST /auth/verify` (AUTH_MODE=remote) this late (gateway only). */
  verifyDelayMs?: number;
  instances: number;
  redisUrl?: string;
  /** Levers: gateway environment over the defaults (`--gateway-env`, e.g. CHAT_BATCH_MAX=32). */
  gatewayEnv: Record<string, string>;
  /** Directory for `node --cpu-prof` profiles of the gateway, when profiling. */
  cpuProfDir?: string;
}

/** How a restart went: the old process's end and the new one's start, in ms after the SIGTERM. */
export interface InstanceRestart {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  exitedAfterMs: number;
  /** The new process accepts TCP connections. */
  listeningAfterMs: number;
  /** It answers that it is ready (`/ready` 200; the bare relay's announcement). */
  readyAfterMs: number;
}

export const JWT_SECRET = 'bench-secret-0123456789abcdef';

/** The environment a measured process starts with: nothing inherited but PATH and HOME. */
function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' };
}

export class Servers {
  /** The Node version each kind of server said it runs on (the report's machine line). */
  readonly nodeVersions: Partial<Record<ServerKind, string>> = {};

  constructor(
    private readonly group: ProcessGroup,
    /** The repository root (where dist/ is). */
    private readonly root: string,
    /** Where the compiled bench modules are (bench/.build). */
    private readonly buildDir: string,
  ) {}

  async start(kind: ServerKind, opts: StartOptions): Promise<Target> {
    return kind === 'bare' ? this.startBare(opts) : this.startGateway(opts);
  }

  /** True when `redis-server` can be run here. */
  hasRedis(): boolean {
    return spawnSync('redis-server', ['--version']).status === 0;
  }

  /** A redis-server on a free port without persistence. */
  async startRedis(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
    const port = await freePort();
    const child = this.group.spawn('redis-server', 'redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '1000',
    ]);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${child.tail()}`)), 10_000);
      const watch = (chunk: Buffer) => {
        if (!String(chunk).includes('Ready to accept connections')) return;
        clearTimeout(timer);
        child.proc.stdout?.off('data', watch);
        resolve();
      };
      child.proc.stdout?.on('data', watch);
      child.proc.once('exit', () => reject(new Error(`redis-server exited:\n${child.tail()}`)));
    });
    return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: () => this.group.stop(child) };
  }

  /**
   * Restarts instance `index` of `target` as a deploy does: SIGTERM (the gateway drains), waits
   * for the process to exit (SIGKILL after `exitTimeoutMs`), starts the same command with the same
   * environment on the same port and waits until it serves. The new process replaces the old in
   * `target.instances` and `target.serverPids` as soon as it is spawned; `onSpawn` sees it then.
   */
  async restartInstance(target: Target, index: number, exitTimeoutMs: number, onSpawn: (child: ManagedChild) => void = () => {}): Promise<InstanceRestart> {
    const t0 = performance.now();
    const old = target.instances[index];
    await this.group.stop(old, exitTimeoutMs);
    const exitedAfterMs = performance.now() - t0;
    const port = new URL(target.urls[index]).port;
    // The bare relay takes the port it was given by the system at first; the gateway's is in its environment.
    const fresh = this.group.respawn(old, target.kind === 'bare' ? { PORT: port } : {});
    target.instances[index] = fresh;
    target.serverPids[index] = fresh.pid;
    onSpawn(fresh);
    // On the servers' core from the start, not among the clients retrying; placed again once
    // ready for the helper threads started meanwhile (they inherit the main thread's core).
    this.group.placeServer(fresh);
    await waitForListening(Number(port), fresh);
    const listeningAfterMs = performance.now() - t0;
    if (target.kind === 'bare') await whenReadyPort(fresh);
    else await waitForHttp(`${target.urls[index]}/ready`, fresh);
    this.group.placeServer(fresh);
    return { exitCode: old.proc.exitCode, exitSignal: old.proc.signalCode, exitedAfterMs, listeningAfterMs, readyAfterMs: performance.now() - t0 };
  }

  private async startBare(opts: StartOptions): Promise<Target> {
    const children: ManagedChild[] = [];
    const urls: string[] = [];
    for (let i = 0; i < opts.instances; i++) {
      const env = { ...baseEnv(), ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}) };
      const child = this.group.fork(`bare-relay-${i}`, join(this.buildDir, 'standins', 'bareRelay.js'), [], env, profileArgs(opts, 'bare'));
      children.push(child);
      urls.push(`http://127.0.0.1:${await whenReadyPort(child)}`);
      this.group.placeServer(child);
    }
    const stats = () => Promise.all(urls.map((u) => fetchJson<{ connections: number; heap_used_bytes: number; node: string }>(u)));
    this.nodeVersions.bare = (await stats())[0]?.node;
    return {
      kind: 'bare',
      urls,
      serverPids: children.map((c) => c.pid),
      instances: children,
      helperPids: {},
      heapBytes: async () => (await stats()).reduce((s, x) => s + x.heap_used_bytes, 0),
      eventLoopDelay: async () => undefined,
      connections: async () => (await stats()).reduce((s, x) => s + x.connections, 0),
      chatCalls: async () => ({}),
      stop: async () => {
        await Promise.all(children.map((c) => this.group.stop(c)));
      },
    };
  }

  private async startGateway(opts: StartOptions): Promise<Target> {
    const standinEnv = {
      ...baseEnv(),
      ...(opts.withoutBatchEndpoints ? { STANDIN_BATCH_ENDPOINTS: 'absent' } : {}),
      ...(opts.verifyDelayMs ? { STANDIN_VERIFY_DELAY_MS: String(opts.verifyDelayMs) } : {}),
    };
    const chat = this.group.fork('chat-standin', join(this.buildDir, 'standins', 'chatService.js'), [], standinEnv, nodeArgs());
    this.group.placeService(chat);
    const chatUrl = `http://127.0.0.1:${await whenReadyPort(chat)}`;
    const children: ManagedChild[] = [];
    const urls: string[] = [];
    const metricTexts = () => Promise.all(urls.map((u) => fetch(`${u}/metrics`).then((r) => r.text())));
    for (let i = 0; i < opts.instances; i++) {
      const port = await freePort();
      const env: NodeJS.ProcessEnv = {
        ...baseEnv(),
        // Not the developer's .env: every value is in `env`.
        ENV_FILE: '/nonexistent/.env',
        ...gatewayEnv(this.root, { port, instanceId: `bench-gw-${i}`, jwtSecret: JWT_SECRET, serviceUrl: chatUrl, redisUrl: opts.redisUrl }, opts.gatewayEnv),
      };
      const child = this.group.spawn(`gateway-${i}`, process.execPath, [...profileArgs(opts, 'gateway'), join(this.root, 'dist', 'main.js')], {
        cwd: this.root,
        env,
      });
      children.push(child);
      urls.push(`http://127.0.0.1:${port}`);
      await waitForHttp(`http://127.0.0.1:${port}/ready`, child);
      this.group.placeServer(child);
    }
    this.nodeVersions.gateway = /^nodejs_version_info\{version="([^"]+)"/m.exec((await metricTexts())[0] ?? '')?.[1];
    return {
      kind: 'gateway',
      urls,
      serverPids: children.map((c) => c.pid),
      instances: children,
      helperPids: { chat: chat.pid },
      heapBytes: async () => (await metricTexts()).reduce((sum, t) => sum + metric(t, 'nodejs_heap_size_used_bytes'), 0),
      eventLoopDelay: async () => {
        const texts = await metricTexts();
        // The monitor records whole timer intervals (20 ms plus the delay): its minimum is the
        // interval itself, so the delay is what lies above it.
        const worst = (name: string) => Math.max(...texts.map((t) => Math.max(0, metric(t, name) - metric(t, 'nodejs_eventloop_lag_min_seconds')) * 1000));
        return { p99Ms: worst('nodejs_eventloop_lag_p99_seconds'), maxMs: worst('nodejs_eventloop_lag_max_seconds') };
      },
      connections: async () =>
        (await Promise.all(urls.map((u) => fetchJson<{ connections: number }>(`${u}/health`)))).reduce((s, x) => s + x.connections, 0),
      chatCalls: async () => (await fetchJson<{ calls: Record<string, number> }>(`${chatUrl}/stats`)).calls,
      stop: async () => {
        await Promise.all(children.map((c) => this.group.stop(c, 15_000)));
        await this.group.stop(chat);
      },
    };
  }
}

/** BENCH_NODE_ARGS: flags for the servers and the stand-in that NODE_OPTIONS refuses (--trace-gc); see BENCH_CHILD_LOGS. */
function nodeArgs(): string[] {
  return process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
}

/** Node flags of a server: `--cpu-prof` into `<cpuProfDir>/<kind>` when profiling. */
function profileArgs(opts: StartOptions, kind: ServerKind): string[] {
  return [...nodeArgs(), ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${join(opts.cpuProfDir, kind)}`] : [])];
}

/** A sample's value from Prometheus text (NaN when absent). */
function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name}\\s+(\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

async function fetchJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
}

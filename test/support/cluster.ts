import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { startAuthService } from '../../src/reference/authService.js';
import { startChatService } from '../../src/reference/chatService.js';
import { sleep } from './events.js';
import { startRedis, type RedisServer } from './redis.js';
import { TEST_SECRET, type AuthStandIn, type ChatStandIn } from './stack.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** Lines of output kept per process for failure messages. */
const TAIL_LINES = 200;
const START_TIMEOUT_MS = 20_000;
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const CONNECT_TIMEOUT_MS = 5_000;

/** Children still running, killed when the test process exits whatever happened to its hooks. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** One gateway process of a cluster. */
export interface ClusterInstance {
  /** Its INSTANCE_ID, `gw-<i>`. */
  id: string;
  url: string;
  port: number;
  process: ChildProcess;
  /** True until the process exited. */
  readonly alive: boolean;
  /** Sends `signal` and resolves once the process exited (SIGKILL after 5 s if it did not). */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process exited. */
  stop(): Promise<void>;
  /** The last ~200 lines of its stdout and stderr. */
  output(): string;
  /** Its JSON log entries (of the kept lines) whose `message` is `message`. */
  logs(message: string): Array<Record<string, any>>;
}

/** Several gateway processes on one real Redis, in front of shared reference services. */
export interface Cluster {
  redis: RedisServer;
  auth: AuthStandIn;
  chat: ChatStandIn;
  instances: ClusterInstance[];
  /** A connected socket.io-client (websocket, no reconnection) of `userId` on instance `i`, after `connected`. */
  connect(i: number, userId: string): Promise<ClientSocket>;
  /** A valid token for a user, from the reference auth-service. */
  token(userId: string): string;
  /** Closes client sockets, stops the live processes, the services and Redis. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** @default 2 */
  instances?: number;
  /** Added to (or replacing) every gateway's environment. */
  env?: Record<string, string>;
}

/**
 * Starts Redis, the reference services in process and `instances` gateway processes
 * (`node --import tsx src/main.ts`), and resolves once every gateway answers `/ready` 200.
 */
export async function startCluster({ instances = 2, env = {} }: ClusterOptions = {}): Promise<Cluster> {
  const redis = await startRedis();
  let auth: AuthStandIn | undefined;
  let chat: ChatStandIn | undefined;
  try {
    auth = await startAuthService({ jwtSecret: TEST_SECRET });
    chat = await startChatService();
  } catch (e) {
    await Promise.all([auth?.close(), redis.stop()]);
    throw e;
  }
  return startGateways(redis, auth, chat, instances, env);
}

async function startGateways(redis: RedisServer, auth: AuthStandIn, chat: ChatStandIn, instances: number, env: Record<string, string>): Promise<Cluster> {
  const sockets = new Set<ClientSocket>();
  const started: ClusterInstance[] = [];
  let stopping: Promise<void> | undefined;

  const stop = () =>
    (stopping ??= (async () => {
      for (const s of sockets) s.disconnect();
      await Promise.all(started.map((g) => g.stop()));
      await Promise.all([auth.close(), chat.close()]);
      await redis.stop();
    })());

  const baseEnv = {
    PATH: process.env.PATH ?? '',
    // No .env file of the working tree may change what the test sets.
    ENV_FILE: join(tmpdir(), 'cluster-test-no-such.env'),
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_SECRET,
    AUTH_SERVICE_URL: auth.url,
    CHAT_SERVICE_URL: chat.url,
    REDIS_URL: redis.url,
    LOG_LEVEL: 'info',
    RATE_LIMIT_ENABLED: 'false',
    PRESENCE_STALE_MS: '2000',
  };
  try {
    const launched = Array.from({ length: instances }, (_, i) => spawnGateway(`gw-${i}`, { ...baseEnv, INSTANCE_ID: `gw-${i}`, ...env }));
    const settled = await Promise.allSettled(launched);
    for (const s of settled) if (s.status === 'fulfilled') started.push(s.value);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    await Promise.all(started.map(waitReady));
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    redis,
    auth,
    chat,
    instances: started,
    token: (userId) => auth.issueToken(userId),
    async connect(i, userId) {
      const instance = started[i];
      if (!instance) throw new Error(`no instance ${i} (the cluster has ${started.length})`);
      const socket = connectClient(instance.url, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        auth: { token: auth.issueToken(userId) },
      });
      sockets.add(socket);
      await new Promise<void>((done, failed) => {
        const timer = setTimeout(() => failed(new Error(`${userId} not connected to ${instance.id} within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
        socket.once('connected', () => {
          clearTimeout(timer);
          done();
        });
        socket.once('connect_error', (e) => {
          clearTimeout(timer);
          failed(new Error(`${userId} refused by ${instance.id}: ${e.message} ${JSON.stringify((e as { data?: unknown }).data)}`));
        });
      });
      return socket;
    },
    stop,
  };
}

/** Spawns one gateway and resolves with it once it logged "gateway listening" (its port). */
function spawnGateway(id: string, env: Record<string, string>): Promise<ClusterInstance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
  };
  const exited = new Promise<void>((done) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      keep(`[${id} exited: code ${code}, signal ${signal}]`);
      done();
    }),
  );
  const output = () => lines.join('\n');
  const entries = (message: string) => lines.map(parseJson).filter((e) => e?.message === message) as Array<Record<string, any>>;
  const alive = () => child.exitCode === null && child.signalCode === null;

  const kill = async (signal: NodeJS.Signals) => {
    if (!alive()) return;
    child.kill(signal);
    const forced = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(forced);
  };

  return new Promise((found, failed) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      failed(new Error(`${id} did not log "gateway listening" within ${START_TIMEOUT_MS} ms:\n${output()}`));
    }, START_TIMEOUT_MS);
    void exited.then(() => {
      clearTimeout(timer);
      failed(new Error(`${id} exited before listening:\n${output()}`));
    });
    // stdout stays open and read for the whole life of the process: a full pipe would block its logging.
    readLines(child.stderr!, keep);
    readLines(child.stdout!, (line) => {
      keep(line);
      const entry = parseJson(line);
      if (entry?.message !== 'gateway listening' || typeof entry.port !== 'number') return;
      clearTimeout(timer);
      const url = `http://127.0.0.1:${entry.port}`;
      found({
        id,
        url,
        port: entry.port,
        process: child,
        get alive() {
          return alive();
        },
        kill,
        stop: () => kill('SIGTERM'),
        output,
        logs: entries,
      });
    });
  });
}

/** Polls `/ready` until it answers 200. */
async function waitReady(instance: ClusterInstance): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < until) {
    try {
      const res = await fetch(`${instance.url}/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`${instance.id} /ready not 200 within ${READY_TIMEOUT_MS} ms (last: ${last}):\n${instance.output()}`);
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) onLine(line);
  });
}

function parseJson(line: string): Record<string, any> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' ? (value as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { startAuthService } from '../../src/reference/authService.js';
import { startChatService } from '../../src/reference/chatService.js';
import { sleep } from './events.js';
import { gatewayEnv, spawnGateway, type GatewayProcess } from './gatewayProcess.js';
import { startRedis, type RedisServer } from './redis.js';
import { TEST_SECRET, type AuthStandIn, type ChatStandIn } from './stack.js';

const READY_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;

/** One gateway process of a cluster; its `id` is its INSTANCE_ID, `gw-<i>`. */
export type ClusterInstance = GatewayProcess;

/** Several gateway processes on one real Redis, in front of shared reference services. */
export interface Cluster {
  redis: RedisServer;
  auth: AuthStandIn;
  chat: ChatStandIn;
  instances: ClusterInstance[];
  /**
   * A connected socket.io-client (websocket, no reconnection) of `userId` on instance `i`, after
   * `connected`; with a new token unless one is given.
   */
  connect(i: number, userId: string, token?: string): Promise<ClientSocket>;
  /** A socket.io-client on instance `i` presenting `token`, not waited for (for refused handshakes). */
  client(i: number, token: string): ClientSocket;
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

  const baseEnv = { ...gatewayEnv({ auth, chat }), REDIS_URL: redis.url, PRESENCE_STALE_MS: '2000' };
  try {
    const launched = Array.from({ length: instances }, (_, i) => spawnGateway({ ...baseEnv, INSTANCE_ID: `gw-${i}`, ...env }, { id: `gw-${i}` }));
    const settled = await Promise.allSettled(launched);
    for (const s of settled) if (s.status === 'fulfilled') started.push(s.value);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    await Promise.all(started.map(waitReady));
  } catch (e) {
    await stop();
    throw e;
  }

  const client = (i: number, token: string) => {
    const instance = started[i];
    if (!instance) throw new Error(`no instance ${i} (the cluster has ${started.length})`);
    const socket = connectClient(instance.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
    sockets.add(socket);
    return socket;
  };

  return {
    redis,
    auth,
    chat,
    instances: started,
    token: (userId) => auth.issueToken(userId),
    client,
    async connect(i, userId, token = auth.issueToken(userId)) {
      const instance = started[i];
      const socket = client(i, token);
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

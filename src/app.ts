import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';
import { LocalTokenVerifier } from './auth/LocalTokenVerifier.js';
import { RemoteTokenVerifier } from './auth/RemoteTokenVerifier.js';
import type { TokenVerifier } from './auth/TokenVerifier.js';
import { AuthClient } from './clients/AuthClient.js';
import type { BackendClient } from './clients/BackendClient.js';
import { ChatClient } from './clients/ChatClient.js';
import { ServiceClient, type ServiceClientOptions } from './clients/ServiceClient.js';
import { SinkPublisher, type Sink, type SinkEventType } from './clients/SinkPublisher.js';
import type { AuthServiceSettings, GatewayConfig } from './config/config.js';
import { clientEventsFor } from './contract/index.js';
import { createHttpApp } from './http/createHttpApp.js';
import { probeRoutes } from './http/probes.js';
import { dashboardRoutes } from './http/dashboard.js';
import { pushApiRoutes } from './http/pushApi.js';
import { InFlight } from './lifecycle/InFlight.js';
import { EventLoopDelay } from './limits/EventLoopDelay.js';
import { EventRateLimiter, memoryLimiter, redisLimiter } from './limits/EventRateLimiter.js';
import { FloodGuard } from './limits/FloodGuard.js';
import { HandshakeAdmission } from './limits/HandshakeAdmission.js';
import { SlowConsumerGuard } from './limits/SlowConsumerGuard.js';
import { createLogger, type Logger } from './observability/logger.js';
import { BREAKER_STATE_VALUE, createMetrics, type Metrics } from './observability/metrics.js';
import { createPresenceStore } from './presence/createPresenceStore.js';
import { createEchoSkippingAdapter } from './redis/EchoSkippingParser.js';
import { KEY_PREFIX, RedisConnections } from './redis/RedisConnections.js';
import { isClusterPresenceStore } from './presence/ClusterPresenceStore.js';
import { PresenceMaintenance } from './presence/PresenceMaintenance.js';
import { PresenceService } from './presence/PresenceService.js';
import { StatusReporter } from './presence/StatusReporter.js';
import type { PresenceStore } from './presence/PresenceStore.js';
import { MembershipCache } from './rooms/MembershipCache.js';
import { RoomMemberRemoval } from './rooms/RoomMemberRemoval.js';
import { onConnection } from './socket/connection.js';
import { Dispatcher } from './socket/dispatcher.js';
import { allHandlers } from './socket/handlers/index.js';
import { relayTyping } from './socket/handlers/typing.js';
import { handshakeMiddleware } from './socket/handshake.js';
import { coalesceWrites } from './socket/coalesceWrites.js';
import { Encoder, SizedDecoder } from './socket/SizedDecoder.js';
import type { GatewayServer } from './io/GatewayServer.js';
import { TypingTracker } from './typing/TypingTracker.js';

export const SERVICE_NAME = 'chat-gateway';

/**
 * Connections the kernel holds for us while the event loop is busy. A reconnect storm brings
 * thousands within one long loop iteration: with Node's default (511) the kernel drops the rest,
 * and clients see resets or wait for SYN retransmits (1, 3, 7 s...). Capped by net.core.somaxconn.
 */
const LISTEN_BACKLOG = 4096;

export interface GatewayOptions {
  /** Defaults to a JSON logger at the config's level. */
  logger?: Logger;
}

/** A built gateway: `listen()` to serve, `stop()` to drain and close. */
export interface Gateway {
  readonly config: GatewayConfig;
  /** The Socket.IO server, for what tests and tools inspect. */
  readonly io: GatewayServer;
  readonly metrics: Metrics;
  readonly httpServer: http.Server;
  /** Starts listening; resolves with the bound port (PORT=0 picks a free one). */
  listen(): Promise<number>;
  /** Graceful stop (contract: drain bounded by SHUTDOWN_TIMEOUT_MS). Safe to call twice. */
  stop(): Promise<void>;
  /** False once stop() has begun. */
  readonly accepting: boolean;
}

/** The composition root: builds every part from the config and wires them together. */
export function createGateway(config: GatewayConfig, opts: GatewayOptions = {}): Gateway {
  const logger = opts.logger ?? createLogger({ level: config.logLevel, service: SERVICE_NAME, instanceId: config.instanceId });
  const metrics = createMetrics();
  const startedAt = Date.now();
  let accepting = true;
  const draining = () => !accepting;

  const { chat, auth, verifier, sinks, statusReporter } = backendClients(config, metrics, logger);
  // Cluster mode: Redis connections owned here, handed to the adapter, presence and limits.
  let maintenance: PresenceMaintenance | undefined;
  const redis = config.redisUrl ? new RedisConnections(config.redisUrl, logger, () => void maintenance?.repairAfterOutage()) : undefined;
  const presenceStore = createPresenceStore(redis ? { kind: 'redis', client: redis.commands, instanceId: config.instanceId } : { kind: 'memory' });
  const limiterFactory = redis ? redisLimiter(redis.commands, KEY_PREFIX) : memoryLimiter;
  const { httpServer, io, serveHttp } = socketServer(config, () => accepting);
  if (redis) io.adapter(redisAdapter(config.redisAdapter, redis));
  const loopDelay = new EventLoopDelay();
  loopDelay.start();
  const admission = new HandshakeAdmission(config.handshakeAdmission, () => loopDelay.currentMs());
  const inFlight = new InFlight();
  const presence = new PresenceService({ io, store: presenceStore, broadcast: config.presenceBroadcast, status: statusReporter, sinks });
  const membership = new MembershipCache(chat, config.membershipCacheTtlMs);
  const roomRemoval = new RoomMemberRemoval(io, membership, redis !== undefined);
  const typingOpts = { timeoutMs: config.typingTimeoutMs, throttleMs: config.typingThrottleMs };
  const typing = new TypingTracker(typingOpts, (userId, target) => relayTyping(io, 'user_stop_typing', userId, target));
  const handlers = allHandlers({ io, chat, membership, typing, sinks, presenceStore, verifier });
  const dispatcher = new Dispatcher(clientEventsFor(config), handlers, {
    maxPayloadBytes: config.maxPayloadBytes,
    limiter: new EventRateLimiter(config.rateLimit, metrics, limiterFactory),
    floodGuard: new FloodGuard(config.floodDisconnectAfter, metrics),
    inFlight,
    metrics,
    logger,
    draining,
  });
  if (redis && isClusterPresenceStore(presenceStore)) {
    const localSockets = () => [...io.of('/').sockets.values()].map((s) => ({ socketId: s.id, userId: s.data.userId }));
    maintenance = new PresenceMaintenance({ store: presenceStore, presence, localSockets, staleMs: config.presenceStaleMs, logger });
  }
  io.use(handshakeMiddleware({ config, verifier, presence, metrics, logger, limiterFactory, accepting: () => accepting, admission }));
  const { presenceBroadcast, idleTimeoutMs } = config;
  const connectionDeps = { dispatcher, presence, presenceStore, typing, metrics, logger, inFlight, presenceBroadcast, idleTimeoutMs };
  io.on('connection', (socket) => onConnection(connectionDeps, socket));
  const slowConsumers = new SlowConsumerGuard(io, config.maxBufferedBytes, metrics, logger);
  slowConsumers.start();
  io.engine.on('connection_error', (e: { code: number; message: string }) => logger.debug('engine refused a connection', { error: e.message }));

  const notReadyReason = async () => (!accepting ? 'draining' : redis && !redis.ready ? 'redis unavailable' : null);
  const forgetTokens = tokenRevocation(io, verifier, redis !== undefined);
  const removeRoomMembers = (roomId: string, userIds: string[]) => roomRemoval.remove(roomId, userIds);
  serveHttp(
    httpRoutes({ config, io, presenceStore, metrics, logger, admission, clients: [chat, auth], startedAt, notReadyReason, forgetTokens, removeRoomMembers }),
  );

  let stopping: Promise<void> | undefined;
  return {
    config,
    io,
    metrics,
    httpServer,
    get accepting() {
      return accepting;
    },
    listen: () =>
      new Promise((resolve, reject) => {
        const serve = () =>
          httpServer.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG }, () => {
            const port = (httpServer.address() as AddressInfo).port;
            logger.info('gateway listening', { port, host: config.host, auth_mode: config.authMode, presence: redis ? 'redis' : 'memory' });
            resolve(port);
          });
        httpServer.once('error', reject);
        // In cluster mode, join the cluster's presence first; an unreachable Redis does not stop the
        // start (/ready says 503 until it is back, then presence is repaired).
        if (!redis || !maintenance) return void serve();
        void redis.waitReady(5000).then(() => maintenance!.start()).then(serve, reject);
      }),
    stop: () =>
      (stopping ??= (async () => {
        accepting = false;
        const deadline = Date.now() + config.shutdownTimeoutMs;
        await drain({ io, inFlight, logger, reconnectAfterMs: config.reconnectAfterMs }, config.shutdownTimeoutMs);
        // The drain's offline transitions are still pending: send them within what is left.
        await statusReporter?.stop(Math.max(0, deadline - Date.now()));
        await maintenance?.stop();
        slowConsumers.stop();
        loopDelay.stop();
        typing.clear();
        await new Promise<void>((resolve) => io.close(() => resolve()));
        chat.close();
        auth?.close();
        sinks.close();
        await presenceStore.close();
        await redis?.close();
        logger.info('gateway stopped');
      })()),
  };
}

/** The HTTP side of the port: probes, the dashboard and the push API. */
function httpRoutes(parts: {
  config: GatewayConfig;
  io: GatewayServer;
  presenceStore: PresenceStore;
  metrics: Metrics;
  logger: Logger;
  admission: HandshakeAdmission;
  clients: Array<BackendClient | undefined>;
  startedAt: number;
  notReadyReason: () => Promise<string | null>;
  forgetTokens: (userId: string) => void;
  removeRoomMembers: (roomId: string, userIds: string[]) => Promise<number>;
}) {
  const { config, io, presenceStore, metrics, logger, admission, clients, startedAt, forgetTokens, removeRoomMembers } = parts;
  const present = clients.filter((c): c is BackendClient => c !== undefined);
  const gauges = () => {
    metrics.handshakesInProgress.set(admission.inProgress);
    return refreshGauges(metrics, presenceStore, clients);
  };
  return createHttpApp([
    probeRoutes({
      service: SERVICE_NAME,
      instanceId: config.instanceId,
      startedAt,
      metrics,
      presenceStore,
      connections: () => io.engine.clientsCount,
      notReadyReason: parts.notReadyReason,
      services: () => Object.fromEntries(present.map((c) => [c.serviceName, c.health])),
      refreshGauges: gauges,
    }),
    dashboardRoutes({ config, io, presenceStore, metrics, refreshGauges: gauges }),
    pushApiRoutes({
      config,
      io,
      presenceStore,
      metrics,
      logger,
      forgetTokens,
      removeRoomMembers,
      stats: async () => ({
        instance_id: config.instanceId,
        connections: io.engine.clientsCount,
        online_users: await presenceStore.countOnline(),
        uptime_s: Math.round((Date.now() - startedAt) / 1000),
        breakers: Object.fromEntries(present.map((c) => [c.serviceName, c.breakerState])),
      }),
    }),
  ], logger);
}

/** The backend services' clients (contract section 6) and what is built on them. */
function backendClients(config: GatewayConfig, metrics: Metrics, logger: Logger) {
  const serviceOptions = { breaker: config.breaker, serviceToken: config.serviceToken, metrics, logger };
  const { batchEndpoints, batchWindowMs, batchMax } = config.chatService;
  const chat = new ChatClient(
    new ServiceClient({ name: 'chat', baseUrl: config.chatService.url, ...config.chatService, ...serviceOptions }),
    batchEndpoints === 'false' ? undefined : { mode: batchEndpoints, windowMs: batchWindowMs, max: batchMax, logger },
  );
  const { auth, verifier } = authParts(config, serviceOptions);
  const statusReporter = auth ? new StatusReporter({ auth, metrics, logger }) : undefined;
  const sinks = new SinkPublisher(buildSinks(config, serviceOptions), metrics);
  return { chat, auth, verifier, sinks, statusReporter };
}

/**
 * The HTTP server and the Socket.IO server on it. Socket.IO takes over the listeners present
 * when it attaches: the one installed here hands every request that is not `/socket.io` to the
 * Express app given to `serveHttp` once the parts it needs exist.
 */
function socketServer(config: GatewayConfig, accepting: () => boolean) {
  let httpApp: (req: http.IncomingMessage, res: http.ServerResponse) => void = () => undefined;
  const httpServer = http.createServer((req, res) => httpApp(req, res));
  const io: GatewayServer = new Server(httpServer, {
    path: '/socket.io',
    serveClient: false,
    // Frames between MAX_PAYLOAD_BYTES and twice that get PAYLOAD_TOO_LARGE; larger ones close the socket.
    maxHttpBufferSize: config.maxPayloadBytes * 2,
    perMessageDeflate: false,
    parser: { Encoder, Decoder: SizedDecoder },
    pingInterval: config.pingIntervalMs,
    pingTimeout: config.pingTimeoutMs,
    // Credentials (sticky-session cookies) only towards an explicit allowlist.
    cors: config.corsOrigins.length > 0 ? { origin: config.corsOrigins, credentials: true } : { origin: true },
    allowRequest: (_req, callback) => callback(accepting() ? null : 'draining', accepting()),
  });
  io.engine.on('connection', coalesceWrites);
  return { httpServer, io, serveHttp: (app: typeof httpApp) => void (httpApp = app) };
}

/**
 * Tells every socket to reconnect elsewhere, lets in-flight events finish, then disconnects
 * them and lets presence record it, all within `timeoutMs`.
 */
async function drain(parts: { io: GatewayServer; inFlight: InFlight; logger: Logger; reconnectAfterMs: number }, timeoutMs: number): Promise<void> {
  const { io, inFlight, logger } = parts;
  const deadline = Date.now() + timeoutMs;
  logger.info('draining', { connections: io.engine.clientsCount, in_flight: inFlight.size });
  io.local.emit('server_shutdown', { reconnect_after_ms: parts.reconnectAfterMs });
  const finished = await inFlight.drain(Math.max(0, deadline - Date.now()));
  io.local.disconnectSockets(true);
  const recorded = await inFlight.drain(Math.max(0, deadline - Date.now()));
  // Closing the engine drops unflushed writes: let acks and disconnect packets leave first.
  while (io.engine.clientsCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  if (!finished || !recorded) logger.warn('shutdown timeout reached with work in flight', { in_flight: inFlight.size });
}

/** What every service client of the gateway shares. */
type ServiceOptions = Omit<ServiceClientOptions, 'name' | 'baseUrl' | 'timeoutMs' | 'retries'>;

/** The Socket.IO adapter of cluster mode; the only place REDIS_ADAPTER is read. */
function redisAdapter(kind: GatewayConfig['redisAdapter'], redis: RedisConnections) {
  const channelPrefix = `${KEY_PREFIX}:socket.io`;
  if (kind === 'sharded') return createShardedAdapter(redis.pub, redis.sub, { channelPrefix, subscriptionMode: 'dynamic' });
  return createEchoSkippingAdapter(redis.pub, redis.sub, channelPrefix);
}

/** Gauges that are read rather than counted, refreshed on each scrape. */
async function refreshGauges(metrics: Metrics, presence: PresenceStore, clients: Array<BackendClient | undefined>): Promise<void> {
  metrics.onlineUsers.set(await presence.countOnline().catch(() => 0));
  for (const client of clients) {
    if (client) metrics.breakerState.set({ service: client.serviceName }, BREAKER_STATE_VALUE[client.breakerState]);
  }
}

/** The token verifier AUTH_MODE chooses, and the auth-service client (remote mode, or statuses). */
function authParts(config: GatewayConfig, shared: ServiceOptions): { auth?: AuthClient; verifier: TokenVerifier } {
  const client = (settings: AuthServiceSettings) =>
    new AuthClient(new ServiceClient({ name: 'auth', baseUrl: settings.url, ...settings, ...shared }), { mode: settings.batchEndpoints, logger: shared.logger });
  if (config.authMode === 'remote') {
    const auth = client(config.authService);
    return { auth, verifier: new RemoteTokenVerifier(auth, { cacheTtlMs: config.authCacheTtlMs }) };
  }
  return { auth: config.authService && client(config.authService), verifier: new LocalTokenVerifier(config.jwt) };
}

/**
 * What POST /api/v1/users/{id}/disconnect calls before it disconnects the user's sockets: every
 * instance forgets the user's verified tokens, so a reconnect is verified again. It travels
 * like the disconnect itself, through the adapter (Redis in cluster mode), and before it.
 */
function tokenRevocation(io: GatewayServer, verifier: TokenVerifier, clustered: boolean): (userId: string) => void {
  io.on('forget_user_tokens', (userId) => verifier.forgetUser(userId));
  return (userId) => {
    verifier.forgetUser(userId);
    if (clustered) io.serverSideEmit('forget_user_tokens', userId);
  };
}

/** The optional engines of contract section 6 and the events each receives. */
function buildSinks(config: GatewayConfig, shared: ServiceOptions): Sink[] {
  const wanted: Array<[string, string | undefined, SinkEventType[]]> = [
    ['presence_engine', config.sinks.presenceEngineUrl, ['user_online', 'user_offline']],
    ['ai_engine', config.sinks.aiEngineUrl, ['message_persisted']],
    ['quantum_room_engine', config.sinks.quantumRoomEngineUrl, ['room_joined', 'room_left']],
  ];
  return wanted.flatMap(([name, url, accepts]) =>
    url ? [{ name, accepts: new Set(accepts), client: new ServiceClient({ ...shared, name, baseUrl: url, timeoutMs: 1000, retries: 0 }) }] : [],
  );
}

import { rooms } from '../contract/index.js';
import type { InFlight } from '../lifecycle/InFlight.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { PresenceService } from '../presence/PresenceService.js';
import type { PresenceStore } from '../presence/PresenceStore.js';
import type { TypingTracker } from '../typing/TypingTracker.js';
import type { Dispatcher } from './dispatcher.js';
import type { GatewaySocket } from '../io/GatewayServer.js';

/** What a socket's lifecycle uses. */
export interface ConnectionDeps {
  dispatcher: Dispatcher;
  presence: PresenceService;
  presenceStore: PresenceStore;
  typing: TypingTracker;
  metrics: Metrics;
  logger: Logger;
  /** Presence updates a graceful shutdown waits for. */
  inFlight: InFlight;
  presenceBroadcast: 'scoped' | 'global';
  idleTimeoutMs: number;
}

/** setTimeout cannot wait longer than this (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One accepted socket from `connection` to `disconnect`: rooms, presence, the `connected`
 * greeting, token expiry and idle timeout.
 */
export function onConnection(deps: ConnectionDeps, socket: GatewaySocket): void {
  const { dispatcher, presence, typing, metrics, logger, inFlight } = deps;
  const userId = socket.data.userId;
  metrics.connections.inc();
  void socket.join(rooms.user(userId));
  dispatcher.attach(socket);
  const timers: SocketTimers = {};
  armExpiry(socket, timers, deps);
  armIdle(socket, timers, deps);

  // The handshake admitted the socket into presence, so the user is online when greeted.
  void greet(deps, socket);
  let chatRooms: string[] = [];
  socket.on('disconnecting', () => {
    chatRooms = [...socket.rooms].filter(rooms.isChat);
  });
  socket.on('disconnect', (reason) => {
    metrics.connections.dec();
    clearTimeout(timers.expiry);
    clearTimeout(timers.idle);
    typing.stopSocket(socket.id);
    logger.debug('socket closed', { user_id: userId, socket_id: socket.id, reason });
    const leaving = presence.socketDisconnected(userId, socket.id, chatRooms);
    inFlight.track(leaving.catch((e: Error) => logger.error('presence remove failed', { user_id: userId, error: e })));
  });
  // Errors from Socket.IO itself; a client emitting an event named "error" is not one.
  socket.on('error', (e: unknown) => {
    if (e instanceof Error) logger.warn('socket error', { user_id: userId, error: e.message });
  });
}

/** The greeting, and the online users when PRESENCE_BROADCAST=global. */
async function greet(deps: ConnectionDeps, socket: GatewaySocket): Promise<void> {
  socket.emit('connected', { socket_id: socket.id, user_id: socket.data.userId, server_time: new Date().toISOString() });
  if (deps.presenceBroadcast === 'global') {
    const users = await deps.presenceStore.listOnline(1000).catch(() => null);
    if (users) socket.emit('online_users', { users });
  }
}

/** The socket's own timers; each re-arms itself and is cleared on disconnect. */
interface SocketTimers {
  expiry?: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
}

/** Disconnects with `error {AUTH_EXPIRED}` when the token expires, unless refreshed meanwhile. */
function armExpiry(socket: GatewaySocket, timers: SocketTimers, deps: ConnectionDeps): void {
  const expiresAt = socket.data.tokenExpiresAt;
  if (expiresAt === null) return;
  const left = expiresAt - Date.now();
  if (left > 0) {
    timers.expiry = setTimeout(() => armExpiry(socket, timers, deps), Math.min(left, MAX_TIMER_MS));
    return;
  }
  deps.logger.info('token expired, disconnecting', { user_id: socket.data.userId });
  deps.metrics.disconnects.inc({ reason: 'auth_expired' });
  socket.emit('error', { code: 'AUTH_EXPIRED', message: 'token expired' });
  socket.disconnect(true);
}

/** Closes sockets that sent no event for IDLE_TIMEOUT_MS (pings do not count). */
function armIdle(socket: GatewaySocket, timers: SocketTimers, deps: ConnectionDeps): void {
  const timeoutMs = deps.idleTimeoutMs;
  const idle = Date.now() - socket.data.lastActivityAt;
  if (idle < timeoutMs) {
    timers.idle = setTimeout(() => armIdle(socket, timers, deps), timeoutMs - idle);
    return;
  }
  deps.metrics.disconnects.inc({ reason: 'idle' });
  socket.disconnect(true);
}

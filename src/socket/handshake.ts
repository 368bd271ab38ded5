import { randomUUID } from 'node:crypto';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { TokenVerifier } from '../auth/TokenVerifier.js';
import type { LimiterFactory } from '../limits/EventRateLimiter.js';
import type { HandshakeAdmission } from '../limits/HandshakeAdmission.js';
import type { GatewayConfig } from '../config/config.js';
import { HandshakeError } from '../errors/HandshakeError.js';
import { clientAddress } from '../http/clientAddress.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { PresenceService } from '../presence/PresenceService.js';
import type { GatewaySocket } from '../io/GatewayServer.js';

type Next = (err?: Error) => void;

/** `retry_after_ms` of a handshake refused for MAX_SOCKETS_PER_USER. */
const SOCKET_CAP_RETRY_AFTER_MS = 1000;

export interface HandshakeDeps {
  config: GatewayConfig;
  verifier: TokenVerifier;
  /** Admits the socket into presence within MAX_SOCKETS_PER_USER. */
  presence: PresenceService;
  metrics: Metrics;
  logger: Logger;
  /** Builds the per-IP connection limiter (memory, or Redis in cluster mode). */
  limiterFactory: LimiterFactory;
  /** False while the instance drains. */
  accepting: () => boolean;
  /** Decides which handshakes are served now and which are told to come back (SERVER_BUSY). */
  admission: HandshakeAdmission;
}

/**
 * The Socket.IO middleware every handshake passes: draining, admission, origin, per-IP rate,
 * token, sockets per user. A refusal reaches the client as `connect_error` with `err.data.code`.
 * Admission comes first so a refused handshake costs nothing more than its refusal. The socket
 * enters presence here, as the last step: the per-user cap is checked and the slot taken at once.
 */
export function handshakeMiddleware(deps: HandshakeDeps) {
  const { config, verifier, presence, metrics, logger, admission } = deps;
  const perIp = deps.limiterFactory('conn_ip', { points: config.maxConnectionsPerIpPerMin, durationS: 60 });
  const origins = new Set(config.corsOrigins);
  const refuse = (next: Next, refusal: HandshakeError) => {
    metrics.connectionsRejected.inc({ reason: refusal.code });
    next(refusal);
  };

  return async (socket: GatewaySocket, next: Next) => {
    if (!deps.accepting()) return refuse(next, new HandshakeError('SERVICE_UNAVAILABLE'));
    if (!admission.admit()) return refuse(next, new HandshakeError('SERVER_BUSY', admission.retryAfterMs()));
    try {
      const origin = socket.handshake.headers.origin;
      if (origins.size > 0 && origin !== undefined && !origins.has(origin)) throw new HandshakeError('ORIGIN_FORBIDDEN');
      const { address, headers } = socket.handshake;
      await perIp.consume(clientAddress(address, headers['x-forwarded-for'], config.trustProxyHops)).catch((res: unknown) => {
        throw res instanceof RateLimiterRes ? new HandshakeError('RATE_LIMITED', Math.ceil(res.msBeforeNext)) : res;
      });
      const token = tokenOf(socket);
      if (!token) throw new HandshakeError('AUTH_MISSING');
      const identity = await verifier.verify(token, randomUUID());
      await takeSlot(socket, identity.userId);
      socket.data.userId = identity.userId;
      socket.data.tokenExpiresAt = identity.expiresAt;
      socket.data.lastActivityAt = Date.now();
      socket.data.strikes = 0;
      socket.data.strikesSince = Date.now();
      next();
    } catch (e) {
      refuse(next, e instanceof HandshakeError ? e : new HandshakeError('SERVICE_UNAVAILABLE'));
    } finally {
      admission.finished();
    }
  };

  /**
   * Admits the socket into presence unless its user has MAX_SOCKETS_PER_USER already. From here
   * the socket's disconnect releases the slot; a client that left during the handshake never
   * connects (Socket.IO drops it without a disconnect), so its slot is released here. While the
   * store cannot answer the cap is not enforced and the repair records the socket later.
   */
  async function takeSlot(socket: GatewaySocket, userId: string): Promise<void> {
    let admitted: boolean;
    try {
      admitted = await presence.admitSocket(userId, socket.id, config.maxSocketsPerUser);
    } catch (e) {
      logger.warn('presence add failed', { user_id: userId, error: (e as Error).message });
      return;
    }
    if (!admitted) throw new HandshakeError('RATE_LIMITED', SOCKET_CAP_RETRY_AFTER_MS);
    // Socket.IO connects the socket in the next tick if its transport is still open then; no I/O
    // runs before, so an open transport now means the socket will connect.
    if (socket.conn.readyState !== 'open') {
      presence.socketDisconnected(userId, socket.id, []).catch((e: Error) => logger.warn('presence remove failed', { user_id: userId, error: e.message }));
    }
  }
}

/** `auth.token`, else `Authorization: Bearer`, else the `token` query parameter (contract section 1). */
function tokenOf(socket: GatewaySocket): string | undefined {
  const { auth, headers, query } = socket.handshake;
  const fromAuth = typeof auth?.token === 'string' ? auth.token.trim() : '';
  if (fromAuth) return fromAuth;
  const header = headers.authorization;
  const bearer = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
  if (bearer) return bearer;
  const fromQuery = query?.token;
  return typeof fromQuery === 'string' && fromQuery.trim() ? fromQuery.trim() : undefined;
}

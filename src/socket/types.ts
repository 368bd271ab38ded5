import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { AuthClient } from '../clients/AuthClient.js';
import type { ChatClient } from '../clients/ChatClient.js';
import type { SinkPublisher } from '../clients/SinkPublisher.js';
import type { GatewayConfig, RateLimitFamily } from '../config/config.js';
import type { EventRateLimiter } from '../limits/EventRateLimiter.js';
import type { FloodGuard } from '../limits/FloodGuard.js';
import type { InFlight } from '../lifecycle/InFlight.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { PresenceService } from '../presence/PresenceService.js';
import type { PresenceStore } from '../presence/PresenceStore.js';
import type { MembershipCache } from '../rooms/MembershipCache.js';
import type { TokenVerifier } from '../auth/TokenVerifier.js';
import type { TypingTracker } from '../typing/TypingTracker.js';
import type { ClientEventName, ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './events.js';

export type GatewayServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type GatewaySocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** What handlers may use; built once by the composition root. */
export interface GatewayServices {
  config: GatewayConfig;
  io: GatewayServer;
  presenceStore: PresenceStore;
  presence: PresenceService;
  chat: ChatClient;
  auth?: AuthClient;
  verifier: TokenVerifier;
  membership: MembershipCache;
  typing: TypingTracker;
  limiter: EventRateLimiter;
  floodGuard: FloodGuard;
  sinks: SinkPublisher;
  logger: Logger;
  metrics: Metrics;
  /** Handlers and presence updates a graceful shutdown waits for. */
  inFlight: InFlight;
  /** True once the instance drains: new events are refused as retryable. */
  draining: () => boolean;
}

/** One client event being handled. */
export interface EventContext {
  socket: GatewaySocket;
  /** From the token, never from a payload. */
  userId: string;
  requestId: string;
  services: GatewayServices;
}

/** A client event: its rate-limit family, payload schema and handler. */
export interface EventHandler<S extends z.ZodType = z.ZodType> {
  event: ClientEventName;
  family: RateLimitFamily;
  schema: S;
  /** Does the work; returns the ack's data (without `ok`), or throws a GatewayError. */
  handle(ctx: EventContext, payload: z.output<S>): Promise<object>;
}

/** Declares a handler with its payload type inferred from its schema. */
export function defineHandler<S extends z.ZodType>(h: EventHandler<S>): EventHandler<S> {
  return h;
}

import express, { Router } from 'express';
import { z } from 'zod';
import type { GatewayConfig } from '../config/config.js';
import { requireKeyHeader } from './apiKeys.js';
import { errors } from '../errors/GatewayError.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { PresenceStore } from '../presence/PresenceStore.js';
import { rooms } from '../socket/events.js';
import { id } from '../socket/schemas.js';
import type { GatewayServer } from '../socket/types.js';

export interface PushApiDeps {
  config: GatewayConfig;
  io: GatewayServer;
  presenceStore: PresenceStore;
  metrics: Metrics;
  logger: Logger;
  /** Revokes the user's sessions on every instance: their verified tokens are asked about again. */
  forgetTokens: (userId: string) => void;
  /** Figures for GET /api/v1/stats (counts, breaker states, instance id). */
  stats: () => Promise<Record<string, unknown>>;
}

/**
 * Event names a push may not use: Socket.IO's reserved names and the contract events whose
 * meaning only the gateway can vouch for (connection, presence, acks of its own sends, errors,
 * shutdown). Message events such as `receive_message` and `message_deleted` stay pushable: the
 * chat-service pushes what was created or deleted over its own REST API.
 */
export const RESERVED_PUSH_EVENTS = [
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
  'connected',
  'error',
  'server_shutdown',
  'online_users',
  'user_connected',
  'user_disconnected',
  'message_sent',
] as const;
export type ReservedPushEvent = (typeof RESERVED_PUSH_EVENTS)[number];

/** What a pushed event's name must look like (contract section 5). */
export const PUSH_EVENT_PATTERN = /^[a-z][a-z0-9_:.-]{0,63}$/;

/** How many users or rooms one request may name. */
const MAX_IDS = 1000;
/** Sent with the `error` event when a disconnect request gives no reason. */
const DEFAULT_DISCONNECT_REASON = 'disconnected by the server';

const reserved: ReadonlySet<string> = new Set(RESERVED_PUSH_EVENTS);
const eventName = z
  .string()
  .regex(PUSH_EVENT_PATTERN, `must match ${PUSH_EVENT_PATTERN}`)
  .refine((e) => !reserved.has(e), 'is a reserved event name');
const idList = (what: string) => z.array(id).max(MAX_IDS, `at most ${MAX_IDS} ${what}`);

const pushBody = z
  .object({ user_ids: idList('user ids').optional(), room_ids: idList('room ids').optional(), event: eventName, data: z.unknown().optional() })
  .refine((b) => (b.user_ids?.length ?? 0) + (b.room_ids?.length ?? 0) > 0, {
    message: 'give at least one user id or room id',
    path: ['user_ids'],
  });
const broadcastBody = z.object({ event: eventName, data: z.unknown().optional() });
const disconnectBody = z.object({ reason: z.string().min(1).max(200).optional() });
/** `?user_ids=a,b` (a repeated parameter is accepted too). */
const presenceQuery = z.object({
  user_ids: z
    .union([z.string(), z.array(z.string())], { error: 'required: a comma-separated list of user ids' })
    .transform((v) => [v].flat().flatMap((s) => s.split(',')))
    .pipe(idList('user ids').min(1, 'required: a comma-separated list of user ids')),
});

/** The backend API of contract section 5 (X-API-Key from PUSH_API_KEYS). */
export function pushApiRoutes(deps: PushApiDeps): Router {
  const { config, io, presenceStore, logger } = deps;
  const api = Router();
  // Key first, so nothing of an unauthenticated request is parsed.
  api.use(requireKeyHeader('X-API-Key', config.pushApiKeys));
  api.use(express.json({ limit: config.maxPayloadBytes }));

  api.post('/push', async (req, res) => {
    const body = parse(pushBody, req.body);
    const userIds = unique(body.user_ids ?? []);
    const roomIds = unique(body.room_ids ?? []);
    // Asked first: when the store fails nothing was sent, so the caller may safely retry.
    const online = userIds.length > 0 ? await presenceStore.onlineAmong(userIds) : [];
    emitPushed(io.to([...userIds.map(rooms.user), ...roomIds.map(rooms.chat)]), body.event, body.data ?? null);
    logger.info('push accepted', { event: body.event, user_targets: userIds.length, room_targets: roomIds.length, online_targets: online.length });
    res.status(202).json({ accepted: true, online_users: online });
  });

  api.post('/broadcast', (req, res) => {
    const body = parse(broadcastBody, req.body);
    emitPushed(io, body.event, body.data ?? null);
    logger.info('broadcast accepted', { event: body.event });
    res.status(202).json({ accepted: true });
  });

  api.post('/users/:user_id/disconnect', async (req, res) => {
    const userId = parse(id, req.params.user_id, 'user_id');
    const { reason } = parse(disconnectBody, req.body ?? {});
    // First, so no instance lets the user back in on a token it verified before.
    deps.forgetTokens(userId);
    const target = io.in(rooms.user(userId));
    const sockets = await target.fetchSockets();
    target.emit('error', { code: 'FORBIDDEN', message: reason ?? DEFAULT_DISCONNECT_REASON });
    target.disconnectSockets(true);
    logger.info('user disconnected by the backend', { user_id: userId, sockets: sockets.length });
    res.json({ disconnected: sockets.length });
  });

  api.get('/presence', async (req, res) => {
    const { user_ids } = parse(presenceQuery, req.query, 'query');
    res.json({ online: await presenceStore.onlineAmong(unique(user_ids)) });
  });

  api.get('/stats', async (_req, res) => {
    res.json(await deps.stats());
  });

  return Router().use('/api/v1', api);
}


/**
 * Pushed events are outside the typed event map (contract section 4: "any pushed event"); this is
 * the one place they are emitted, their names already checked against RESERVED_PUSH_EVENTS.
 */
function emitPushed(target: Pick<GatewayServer, 'emit'> | ReturnType<GatewayServer['to']>, event: string, data: unknown): void {
  (target as unknown as { emit(event: string, data: unknown): unknown }).emit(event, data);
}

/** Validates `raw`, or throws VALIDATION_FAILED naming the offending fields. */
function parse<S extends z.ZodType>(schema: S, raw: unknown, what = 'body'): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 5).map((i) => `${[what, ...i.path].join('.')}: ${i.message}`);
  throw errors.validation(issues.join('; '));
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

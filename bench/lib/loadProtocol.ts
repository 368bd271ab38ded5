/**
 * Commands the orchestrator sends a load client over IPC, and their answers. Users are named by
 * id; each holds one socket in the process that connected it.
 */
import type { HistogramData } from './histogram.js';

/** Open one authenticated socket per user at a steady `rate` (sockets/s) to `url`. */
export interface ConnectCmd {
  cmd: 'connect';
  url: string;
  users: string[];
  rate: number;
  /** Handshakes in progress at most. */
  maxPending: number;
  timeoutMs: number;
  jwtSecret: string;
  /** When set, these sockets come back by themselves when lost (lib/reconnect.ts); else a loss is a drop. */
  reconnect?: ReconnectPolicy;
}

export interface ConnectResult {
  connected: number;
  failed: number;
  /** First handshake started → last one finished. */
  elapsedMs: number;
  /** First attempt started → `connected` event received (waits and retries included). */
  latency: HistogramData;
  errors: string[];
  /** `connect_error` SERVER_BUSY answers received, and the clients they went to (each retried). */
  refusals: number;
  refusedClients: number;
}

/** `join_room` / `leave_room` with acks for each (user, room). */
export interface RoomsCmd {
  cmd: 'join' | 'leave';
  memberships: Array<[user: string, room: string]>;
}

export interface RoomsResult {
  ok: number;
  failed: number;
  /** Retryable refusals that were tried again. */
  retried: number;
  errors: string[];
}

/**
 * What senders emit: `send_message` to a user, `send_group_message` to a room, or `storm`:
 * `typing` and `message_delivered` (for ids received earlier) alternately, to a user.
 */
export type SendKind = 'send_message' | 'send_group_message' | 'storm';

/** Emit at `rate` events/s (this process's share) for `durationMs`, then wait for the acks. */
export interface RunCmd {
  cmd: 'run';
  step: number;
  kind: SendKind;
  /** (sender, target user or room), served round-robin. */
  senders: Array<[user: string, to: string]>;
  rate: number;
  durationMs: number;
  /** Message content length (it carries the step and send time). */
  contentBytes: number;
  /** How long to wait for outstanding acks after the last send. */
  drainMs: number;
  /** Remember the ids of received messages (for later receipts). */
  collectIds?: boolean;
}

export interface RunResult {
  /** Events emitted (`offered`), and those the scheduler could not emit in time. */
  sent: number;
  skipped: number;
  acked: number;
  ackErrors: number;
  ackTimeouts: number;
  ack: HistogramData;
  sendMs: number;
  errors: string[];
}

/** The deliveries of one step seen by this process, once they stopped arriving. */
export interface CollectCmd {
  cmd: 'collect';
  step: number;
  settleMs: number;
  maxWaitMs: number;
}

export interface CollectResult {
  /** `receive_message` frames carrying this step's tag, and their send → receive latency. */
  delivered: number;
  delivery: HistogramData;
  /** Other server events received during the step, by name (user_typing, message_sent, …). */
  events: Record<string, number>;
}

export interface StatusResult {
  open: number;
  unexpectedCloses: number;
  closeCodes: Record<string, number>;
}

export interface CloseResult {
  closed: number;
  unexpectedCloses: number;
}

/** socket.io-client's reconnection: `minDelayMs`·2^attempt, moved by up to ±`jitter` of itself, at most `maxDelayMs`. */
export interface ReconnectPolicy {
  minDelayMs: number;
  maxDelayMs: number;
  jitter: number;
  /** One attempt's handshake timeout. */
  timeoutMs: number;
  /** A user still down this long after its loss stops trying, so the loop ends by itself. */
  giveUpAfterMs: number;
}

/** socket.io-client 4's defaults: reconnectionDelay, reconnectionDelayMax, randomizationFactor, timeout. */
export const SOCKET_IO_CLIENT_RECONNECTION: ReconnectPolicy = { minDelayMs: 1000, maxDelayMs: 5000, jitter: 0.5, timeoutMs: 20_000, giveUpAfterMs: 60_000 };

/** Waits until every reconnecting socket was lost at or after `sinceMs` (wall clock) and is back, or `timeoutMs` passes. */
export interface ReconnectedCmd {
  cmd: 'reconnected';
  sinceMs: number;
  timeoutMs: number;
}

/** What the reconnecting sockets of one process went through since the previous report. */
export interface ReconnectedResult {
  users: number;
  /** Lost after `sinceMs` and connected again. */
  back: number;
  /** Lost and not back: still trying, or `gaveUp`. */
  down: number;
  gaveUp: number;
  /** Not lost since `sinceMs`. */
  neverLost: number;
  /** Lost after a `server_shutdown` (the others lost their connection without notice). */
  noticed: number;
  attempts: number;
  /** Failed attempts by cause: the refusal's code (`SERVER_BUSY`...), `http 400`, `ECONNREFUSED`... */
  failures: Record<string, number>;
  /** The longest `retry_after_ms` a refusal asked for (0 when none did). */
  longestRetryAfterMs: number;
  /** Wall-clock ms of the first loss and the last return. */
  firstLostAtMs?: number;
  lastBackAtMs?: number;
  /** When each user was back, in ms after `sinceMs`. */
  backAfter: HistogramData;
  errors: string[];
}

/** `presence_subscribe` for each (subscriber, watched users); from then on their presence events are recorded. */
export interface SubscribeCmd {
  cmd: 'subscribe';
  subscriptions: Array<[subscriber: string, watched: string[]]>;
}

export interface SubscribeResult {
  ok: number;
  failed: number;
  /** Watched users the acks named online. */
  online: number;
  errors: string[];
}

/** The presence events recorded since `subscribe`, once none arrived for `settleMs`. */
export interface PresenceCmd {
  cmd: 'presence';
  settleMs: number;
  maxWaitMs: number;
}

/**
 * For each (subscriber, watched user) pair, the events it saw in order, `D` for
 * `user_disconnected` and `C` for `user_connected` (`DC`: one of each, in that order).
 */
export interface PresenceResult {
  pairs: number;
  /** Pairs by sequence seen; `''` is a pair that saw nothing. */
  patterns: Record<string, number>;
  /** A few `subscriber>watched` pairs of every sequence. */
  examples: Record<string, string[]>;
  /** Presence events about users the subscriber did not watch. */
  unwatched: number;
}

/** The content of a benchmark message: `s{step}|{send time ms}|padding`. */
export function taggedContent(step: number, sentAtMs: number, pad: string): string {
  return `s${step}|${sentAtMs.toFixed(3)}|${pad}`;
}

/** Wall-clock time in ms with sub-ms resolution, comparable between processes of one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

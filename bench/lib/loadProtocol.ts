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

/** The content of a benchmark message: `s{step}|{send time ms}|padding`. */
export function taggedContent(step: number, sentAtMs: number, pad: string): string {
  return `s${step}|${sentAtMs.toFixed(3)}|${pad}`;
}

/** Wall-clock time in ms with sub-ms resolution, comparable between processes of one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

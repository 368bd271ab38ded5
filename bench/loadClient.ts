/**
 * A load-generating process, driven by the orchestrator over IPC (lib/loadProtocol.ts). It holds
 * both ends of the conversations it drives where it can, so send and receive times come from
 * one clock; across processes it uses the wall clock of this machine.
 */
import { BenchSocket, ConnectRefused, type SocketListener } from './lib/benchSocket.js';
import { Histogram } from './lib/histogram.js';
import { serveIpc } from './lib/ipc.js';
import { TokenSigner } from './lib/jwt.js';
import {
  nowMs,
  taggedContent,
  type CollectCmd,
  type CollectResult,
  type ConnectCmd,
  type ConnectResult,
  type RoomsCmd,
  type RoomsResult,
  type RunCmd,
  type RunResult,
  type StatusResult,
  type CloseResult,
  type PresenceCmd,
  type PresenceResult,
  type ReconnectedCmd,
  type SubscribeCmd,
  type SubscribeResult,
} from './lib/loadProtocol.js';
import { stringField } from './lib/wire.js';
import { logStalls } from './lib/stallLog.js';
import { PresenceLog } from './lib/presenceLog.js';
import { ReconnectingSockets } from './lib/reconnect.js';

/** Figures of one measured step, filled by sends, acks and arriving frames. */
class StepStats {
  sent = 0;
  outstanding = 0;
  acked = 0;
  ackErrors = 0;
  readonly ack = new Histogram();
  delivered = 0;
  readonly delivery = new Histogram();
  readonly events: Record<string, number> = {};
  readonly errors: string[] = [];
}

const MAX_IDS_PER_SOCKET = 64;
const CONTENT_MARK = '"content":"s';

const sockets = new Map<string, BenchSocket>();
const steps = new Map<number, StepStats>();
/** Steps at or below this one were collected: their late deliveries are ignored. */
let lastCollected = 0;
let currentStep: StepStats | undefined;
let collectIds = false;
let unexpectedCloses = 0;
const closeCodes: Record<string, number> = {};
/** Presence events of the subscribers, recorded from `subscribe` until `close`. */
let presenceLog: PresenceLog | undefined;

const listener: SocketListener = {
  onEvent(socket, name, frame, receivedAt) {
    if (name !== 'receive_message') {
      if (presenceLog && (name === 'user_connected' || name === 'user_disconnected')) presenceLog.record(socket.user, name, frame);
      if (name === 'server_shutdown') reconnecting.noticed(socket, frame);
      if (currentStep) currentStep.events[name] = (currentStep.events[name] ?? 0) + 1;
      return;
    }
    if (collectIds && socket.receivedIds.length < MAX_IDS_PER_SOCKET) {
      const id = stringField(frame, 'message_id');
      if (id) socket.receivedIds.push(id);
    }
    // The content is `s{step}|{sent at}|…`: a cheap scan instead of JSON.parse per frame.
    const at = frame.indexOf(CONTENT_MARK);
    if (at < 0) return;
    const stepStart = at + CONTENT_MARK.length;
    const bar = frame.indexOf('|', stepStart);
    const stats = stepStats(Number(frame.slice(stepStart, bar)));
    if (!stats) return;
    stats.delivered++;
    stats.delivery.record(receivedAt - Number(frame.slice(bar + 1, frame.indexOf('|', bar + 1))));
  },
  onClose(socket, code, wasExpected) {
    if (sockets.get(socket.user) === socket) sockets.delete(socket.user);
    if (wasExpected || reconnecting.lost(socket)) return;
    unexpectedCloses++;
    closeCodes[code] = (closeCodes[code] ?? 0) + 1;
  },
  onServerDisconnect(socket) {
    reconnecting.lost(socket);
  },
};

/** Sockets connected with a reconnection policy: they come back by themselves when lost. */
const reconnecting = new ReconnectingSockets(sockets, listener);

/** `connect`; with a reconnection policy, the sockets it opened are then kept up. */
async function connectKept(cmd: ConnectCmd): Promise<ConnectResult> {
  const result = await connect(cmd);
  if (cmd.reconnect) reconnecting.adopt(cmd.users, cmd.url, cmd.jwtSecret, cmd.reconnect);
  return result;
}

/**
 * A step's figures; created by the first delivery when this process sends nothing in the step
 * (room members elsewhere), or when its own `run` command has not arrived yet.
 */
function stepStats(step: number): StepStats | undefined {
  let stats = steps.get(step);
  if (!stats && step > lastCollected) steps.set(step, (stats = new StepStats()));
  return stats;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `due(elapsedMs)` every 2 ms until it returns true. */
function everyTick(due: (elapsedMs: number) => boolean): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (due(performance.now() - t0)) {
        clearInterval(timer);
        resolve(performance.now() - t0);
      }
    }, 2);
  });
}

/** SERVER_BUSY refusals a client takes before it counts as failed (so that connecting ends). */
const MAX_BUSY_REFUSALS = 20;
/** The wait after a SERVER_BUSY refusal that names no `retry_after_ms`. */
const DEFAULT_RETRY_AFTER_MS = 1000;

/**
 * Opens the users' sockets at the command's rate, at most `maxPending` handshakes at a time. A
 * client refused with SERVER_BUSY comes back after the `retry_after_ms` the server gave (already
 * jittered there), as the SDK does, and counts as connected once it gets in.
 */
async function connect(cmd: ConnectCmd): Promise<ConnectResult> {
  const signer = new TokenSigner(cmd.jwtSecret);
  const auths = cmd.users.map((user) => ({ token: signer.sign(user), user_id: user }));
  const latency = new Histogram();
  const errors: string[] = [];
  const firstAttemptAt: number[] = [];
  /** SERVER_BUSY refusals so far, by user index. */
  const refusalsOf = new Map<number, number>();
  /** Refused users whose wait is over, ahead of new users for the next free handshake. */
  const dueRetries: number[] = [];
  let started = 0;
  let pending = 0;
  let connected = 0;
  let failed = 0;
  let refusals = 0;
  const attempt = (i: number) => {
    const user = cmd.users[i];
    const socket = new BenchSocket(user, listener);
    pending++;
    socket.connect(cmd.url, auths[i], cmd.timeoutMs).then(
      () => {
        pending--;
        connected++;
        latency.record(performance.now() - firstAttemptAt[i]);
        sockets.set(user, socket);
      },
      (e: Error) => {
        pending--;
        const refused = (refusalsOf.get(i) ?? 0) + 1;
        if (e instanceof ConnectRefused && e.code === 'SERVER_BUSY' && refused <= MAX_BUSY_REFUSALS) {
          refusals++;
          refusalsOf.set(i, refused);
          setTimeout(() => dueRetries.push(i), e.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
          return;
        }
        failed++;
        if (errors.length < 5) errors.push(e.message);
      },
    );
  };
  const elapsedMs = await everyTick((elapsed) => {
    while (dueRetries.length > 0 && pending < cmd.maxPending) attempt(dueRetries.shift()!);
    const due = Math.floor((cmd.rate * elapsed) / 1000);
    while (started < cmd.users.length && started < due && pending < cmd.maxPending) {
      firstAttemptAt[started] = performance.now();
      attempt(started++);
    }
    return connected + failed === cmd.users.length;
  });
  return { connected, failed, elapsedMs, latency: latency.toJSON(), errors, refusals, refusedClients: refusalsOf.size };
}

/** Retryable `join_room`/`leave_room` refusals a membership takes before it counts as failed. */
const ROOM_RETRIES = 5;
const ROOM_RETRY_DELAY_MS = 100;

async function rooms(cmd: RoomsCmd): Promise<RoomsResult> {
  const event = cmd.cmd === 'join' ? 'join_room' : 'leave_room';
  const errors: string[] = [];
  let ok = 0;
  let failed = 0;
  let retried = 0;
  const window = 200;
  for (let i = 0; i < cmd.memberships.length; i += window) {
    await Promise.all(
      cmd.memberships.slice(i, i + window).map(
        ([user, room]) =>
          new Promise<void>((resolve) => {
            const socket = sockets.get(user);
            if (!socket) {
              failed++;
              return resolve();
            }
            const payload = JSON.stringify({ room_id: room });
            let attempts = 0;
            const attempt = () =>
              socket.emit(event, payload, (isOk, frame, at) => {
                const reason = isOk ? '' : frame.slice(at, at + 160);
                // A retryable refusal (the chat-service's calls in flight are bounded) is retried, as a client would.
                if (!isOk && reason.includes('"retryable":true') && ++attempts <= ROOM_RETRIES) {
                  retried++;
                  return void setTimeout(attempt, ROOM_RETRY_DELAY_MS * attempts);
                }
                if (isOk) ok++;
                else {
                  failed++;
                  if (errors.length < 5) errors.push(reason);
                }
                resolve();
              });
            attempt();
          }),
      ),
    );
  }
  return { ok, failed, retried, errors };
}

async function run(cmd: RunCmd): Promise<RunResult> {
  const stats = stepStats(cmd.step) ?? new StepStats();
  currentStep = stats;
  collectIds = cmd.collectIds ?? false;
  const senders = cmd.senders.flatMap(([user, to]) => {
    const socket = sockets.get(user);
    return socket ? [{ socket, to, seq: 0 }] : [];
  });
  const pad = 'x'.repeat(Math.max(1, cmd.contentBytes - 24));
  const onAck = (sentAt: number) => (ok: boolean, frame: string, at: number) => {
    stats.outstanding--;
    if (ok) {
      stats.acked++;
      stats.ack.record(performance.now() - sentAt);
      return;
    }
    stats.ackErrors++;
    if (stats.errors.length < 5) stats.errors.push(frame.slice(at, at + 200));
  };
  const emitOne = (s: (typeof senders)[number]) => {
    const seq = ++s.seq;
    let event: string = cmd.kind;
    let payload: string;
    if (cmd.kind === 'storm') {
      const ids = s.socket.receivedIds;
      if (seq % 2 === 0 && ids.length > 0) {
        event = 'message_delivered';
        payload = `{"message_id":"${ids[(seq / 2) % ids.length]}"}`;
      } else {
        event = 'typing';
        payload = `{"receiver_id":"${s.to}"}`;
      }
    } else {
      const field = cmd.kind === 'send_group_message' ? 'room_id' : 'receiver_id';
      const content = taggedContent(cmd.step, nowMs(), pad);
      payload = `{"${field}":"${s.to}","content":"${content}","client_msg_id":"${s.socket.user}-${cmd.step}-${seq}"}`;
    }
    stats.sent++;
    stats.outstanding++;
    s.socket.emit(event, payload, onAck(performance.now()));
  };
  // Emits what is due every tick; after a stall at most 200 ms worth at once, the rest is skipped.
  const burst = Math.max(1, Math.ceil(cmd.rate * 0.2));
  let issued = 0;
  let skipped = 0;
  let next = 0;
  const sendMs =
    senders.length === 0
      ? 0
      : await everyTick((elapsed) => {
          const scheduled = Math.floor((cmd.rate * Math.min(elapsed, cmd.durationMs)) / 1000);
          let due = scheduled - issued;
          if (due > burst) {
            skipped += due - burst;
            issued += due - burst;
            due = burst;
          }
          for (let i = 0; i < due; i++) emitOne(senders[next++ % senders.length]);
          issued += due;
          return elapsed >= cmd.durationMs;
        });
  const drainUntil = performance.now() + cmd.drainMs;
  while (stats.outstanding > 0 && performance.now() < drainUntil) await sleep(10);
  return {
    sent: stats.sent,
    skipped,
    acked: stats.acked,
    ackErrors: stats.ackErrors,
    ackTimeouts: stats.outstanding,
    ack: stats.ack.toJSON(),
    sendMs,
    errors: stats.errors,
  };
}

async function collect(cmd: CollectCmd): Promise<CollectResult> {
  const stats = stepStats(cmd.step) ?? new StepStats();
  const deadline = performance.now() + cmd.maxWaitMs;
  let last = -1;
  while (stats.delivered !== last && performance.now() < deadline) {
    last = stats.delivered;
    await sleep(cmd.settleMs);
  }
  steps.delete(cmd.step);
  lastCollected = Math.max(lastCollected, cmd.step);
  if (currentStep === stats) currentStep = undefined;
  return { delivered: stats.delivered, delivery: stats.delivery.toJSON(), events: stats.events };
}

function status(): StatusResult {
  let open = 0;
  for (const s of sockets.values()) if (s.open) open++;
  return { open, unexpectedCloses, closeCodes };
}

async function subscribe(cmd: SubscribeCmd): Promise<SubscribeResult> {
  const log = (presenceLog ??= new PresenceLog());
  const result: SubscribeResult = { ok: 0, failed: 0, online: 0, errors: [] };
  await Promise.all(
    cmd.subscriptions.map(
      ([subscriber, watched]) =>
        new Promise<void>((resolve) => {
          log.watch(subscriber, watched);
          const socket = sockets.get(subscriber);
          if (!socket) {
            result.failed++;
            return resolve();
          }
          socket.emit('presence_subscribe', JSON.stringify({ user_ids: watched }), (ok, frame, at) => {
            if (ok) {
              result.ok++;
              result.online += (JSON.parse(frame.slice(at)) as [{ online: string[] }])[0].online.length;
            } else {
              result.failed++;
              if (result.errors.length < 5) result.errors.push(frame.slice(at, at + 160));
            }
            resolve();
          });
        }),
    ),
  );
  return result;
}

async function presence(cmd: PresenceCmd): Promise<PresenceResult> {
  const log = presenceLog ?? new PresenceLog();
  const deadline = performance.now() + cmd.maxWaitMs;
  while (performance.now() < deadline && performance.now() - log.lastEventAt < cmd.settleMs) await sleep(Math.min(100, cmd.settleMs));
  return log.summary();
}

async function closeAll(cmd: { timeoutMs: number }): Promise<CloseResult> {
  await reconnecting.stop(cmd.timeoutMs);
  presenceLog = undefined;
  const all = [...sockets.values()];
  const dropped = unexpectedCloses;
  await Promise.all(all.map((s) => s.close(cmd.timeoutMs)));
  sockets.clear();
  unexpectedCloses = 0;
  for (const k of Object.keys(closeCodes)) delete closeCodes[k];
  return { closed: all.length, unexpectedCloses: dropped };
}

logStalls(`load-${process.pid}`);
serveIpc({ connect: connectKept, join: rooms, leave: rooms, run, collect, status, close: closeAll, subscribe, presence, reconnected: (cmd: ReconnectedCmd) => reconnecting.reconnected(cmd) });

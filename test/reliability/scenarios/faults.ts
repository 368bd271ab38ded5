/**
 * Reliability under faults (issue 4): a chat-service outage and a slow chat-service under a
 * steady message stream, an auth-service outage under connection churn, and SIGTERM under load
 * on a real gateway process. Each scenario measures and returns figures; it never asserts.
 */
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { startAuthService } from '../../../src/reference/authService.js';
import { startChatService, type StoredMessage } from '../../../src/reference/chatService.js';
import { startHttp, type RunningServer } from '../../../src/reference/serviceKit.js';
import type { ChatMessage } from '../../../src/contract/index.js';
import type { StatusOutcome } from '../../../src/presence/StatusReporter.js';
import { MESSAGE_WRITES, messageWrites } from '../../support/chatWrites.js';
import { request, sleep } from '../../support/events.js';
import { gatewayEnv, spawnGateway, type GatewayProcess } from '../../support/gatewayProcess.js';
import { sample } from '../../support/metrics.js';
import { TEST_SECRET, startStack, type Stack } from '../../support/stack.js';
import { statusOutcomes } from '../../support/statusUpdates.js';
import { seededRandom, type Intensity, type ScenarioResult } from '../scenario.js';

/** Section titles, one per scenario. */
export const SCENARIOS = {
  outage: 'Faults: chat-service outage during a message stream',
  slow: 'Faults: chat-service slower than CHAT_SERVICE_TIMEOUT_MS',
  authDown: 'Faults: auth-service down',
  shutdown: 'Faults: SIGTERM under load (real process)',
} as const;

/** Figure names the mocha test asserts on. */
export const FIGURE = {
  error: 'scenario error',
  attempted: 'messages attempted',
  ackedOk: 'acked ok',
  ackedNotStored: 'acked ok but not stored',
  nonRetryable: 'failed acks with a non-retryable code',
  duplicates: 'stored duplicates (same sender + client_msg_id)',
  sawUnstored: 'receivers saw a message that was not stored',
  ackedNotDelivered: 'acked ok but never delivered to the receiver',
  breakerOpenMs: 'fault start → breaker open (ms)',
  breakerClosedMs: 'recovery → breaker closed (ms)',
  slowTimeout: 'slow phase: failed acks TIMEOUT',
  slowUnavailable: 'slow phase: failed acks SERVICE_UNAVAILABLE',
  slowOther: 'slow phase: failed acks, other outcomes',
  burstSent: 'burst after recovery: sent',
  burstOk: 'burst after recovery: acked ok',
  connectionsTried: 'connections tried',
  connectionsAccepted: 'connections accepted',
  statusDropped: 'status updates not delivered (gateway_status_updates_total: failed, dropped or coalesced)',
  statusSent: 'status updates sent while it was down (gateway_status_updates_total{outcome="sent"})',
  exitCode: 'exit code',
  readyBeforeExit: '/ready answered 503 before exit',
} as const;

/** How hard each intensity runs. */
interface Bounds {
  /** Sender/receiver pairs streaming messages. */
  pairs: number;
  /** Per sender, between two new messages. */
  intervalMs: number;
  halfOpenAfterMs: number;
  warmupMs: number;
  outageMs: number;
  slowMs: number;
  /** A phase whose delays straddle the per-attempt timeout. */
  borderlineMs: number;
  /** Streaming after the fault ended. */
  afterMs: number;
  /** Messages per sender sent at once after recovery. */
  burst: number;
  backoff: { baseMs: number; maxMs: number };
  authUsers: number;
  shutdownPairs: number;
  shutdownIntervalMs: number;
  /** Streaming before SIGTERM. */
  shutdownWarmupMs: number;
}

const BOUNDS: Record<Intensity, Bounds> = {
  test: {
    pairs: 4,
    intervalMs: 100,
    halfOpenAfterMs: 1000,
    warmupMs: 500,
    outageMs: 3000,
    slowMs: 2000,
    borderlineMs: 2000,
    afterMs: 1000,
    burst: 10,
    backoff: { baseMs: 100, maxMs: 1000 },
    authUsers: 30,
    shutdownPairs: 4,
    shutdownIntervalMs: 50,
    shutdownWarmupMs: 1000,
  },
  report: {
    pairs: 4,
    intervalMs: 100,
    halfOpenAfterMs: 5000,
    warmupMs: 2000,
    outageMs: 60_000,
    slowMs: 20_000,
    borderlineMs: 10_000,
    afterMs: 5000,
    burst: 50,
    backoff: { baseMs: 200, maxMs: 2000 },
    authUsers: 300,
    shutdownPairs: 16,
    shutdownIntervalMs: 50,
    shutdownWarmupMs: 3000,
  },
};

const CHAT_TIMEOUT_MS = 500;
const BREAKER_THRESHOLD = 5;
const ACK_TIMEOUT_MS = 5000;
const SHUTDOWN_TIMEOUT_MS = 3000;
const SHUTDOWN_CHAT_DELAY_MS = 300;
/** Client-side outcomes that are not ack codes. */
const NO_ACK = 'NO_ACK (client ack timeout)';
const UNANSWERED = 'UNANSWERED (socket closed before the ack)';

/** Runs every fault scenario at `intensity`; a scenario that breaks reports `scenario error`. */
export async function run(intensity: Intensity): Promise<ScenarioResult[]> {
  const b = BOUNDS[intensity];
  return [
    await guarded(SCENARIOS.outage, () => chatOutage(b)),
    await guarded(SCENARIOS.slow, () => chatSlow(b)),
    await guarded(SCENARIOS.authDown, () => authDown(b)),
    await guarded(SCENARIOS.shutdown, () => shutdownUnderLoad(b)),
  ];
}

async function guarded(name: string, scenario: () => Promise<ScenarioResult>): Promise<ScenarioResult> {
  try {
    return await scenario();
  } catch (e) {
    return { name, figures: { [FIGURE.error]: (e as Error).message }, notes: [(e as Error).stack ?? ''] };
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Chat-service outage

/**
 * Senders stream keyed messages; the chat-service stops listening (connections refused) for
 * `outageMs`, then listens again on the same port with the same store. Clients retry failed
 * sends with the same client_msg_id.
 */
async function chatOutage(b: Bounds): Promise<ScenarioResult> {
  const stack = await startStack(chatFaultEnv(b));
  const clients = new Clients(stack.url, (u) => stack.token(u));
  const watch = new BreakerWatch(stack.url, 'chat');
  let restarted: RunningServer | undefined;
  try {
    const pairs = await connectPairs(clients, 'outage', b.pairs);
    const ledger = new Ledger();
    const policy = retryPolicy(b, b.outageMs);
    const stream = startStream(pairs, b.intervalMs, (pair, id) => sendReliably(ledger, pair, id, policy));
    await sleep(b.warmupMs);

    const downAt = Date.now();
    await stack.chat.close();
    await sleep(b.outageMs);
    restarted = await startHttp(stack.chat.app, { port: stack.chat.port });
    const upAt = Date.now();
    await until(() => watch.firstAt(0, upAt) !== undefined, b.halfOpenAfterMs * 3 + 5000);
    await sleep(b.afterMs);
    await stream.stop();
    const burst = await sendBurst(ledger, pairs, b.burst);
    await settleDeliveries(ledger, pairs);
    await watch.stop();

    const openAt = watch.firstAt(1, downAt);
    const closedAt = watch.firstAt(0, upAt);
    const failFast = ledger
      .attempts()
      .filter((a) => a.code === 'SERVICE_UNAVAILABLE' && openAt !== undefined && a.sentAt >= openAt && a.sentAt < upAt)
      .map((a) => a.latencyMs);
    return {
      name: SCENARIOS.outage,
      figures: {
        'sender/receiver pairs': b.pairs,
        'outage (ms)': b.outageMs,
        ...messageFigures(ledger, stack.chat.messages, pairs),
        [FIGURE.breakerOpenMs]: elapsed(downAt, openAt),
        [FIGURE.breakerClosedMs]: elapsed(upAt, closedAt),
        'breaker re-opened after it closed (seen by the 50-ms polling)': closedAt === undefined ? 'n/a' : watch.changesTo(1, closedAt),
        'fail-fast acks while open': failFast.length,
        'fail-fast ack latency while open, median (ms)': percentile(failFast, 50),
        'fail-fast ack latency while open, p95 (ms)': percentile(failFast, 95),
        ...burst,
      },
      notes: [
        `CHAT_SERVICE_TIMEOUT_MS=${CHAT_TIMEOUT_MS}, BREAKER_FAILURE_THRESHOLD=${BREAKER_THRESHOLD}, BREAKER_HALF_OPEN_AFTER_MS=${b.halfOpenAfterMs}, CHAT_SERVICE_RETRIES=2 (default).`,
        'The chat-service stops listening (connections refused), then listens on the same port with the same store.',
        'Messages retried by clients during the outage all come back at once after it: attempts that time out in that rush can be stored yet answered as a failure; the client retry with the same client_msg_id then gets the stored message.',
        `Each sender sends a new keyed message every ${b.intervalMs} ms; a failed send is retried with the same client_msg_id (backoff ${b.backoff.baseMs}..${b.backoff.maxMs} ms).`,
        'Breaker state from GET /metrics gateway_circuit_breaker_state{service="chat"}, polled every 50 ms.',
      ],
    };
  } finally {
    await watch.stop();
    clients.closeAll();
    await restarted?.close();
    await stack.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Chat-service slow

/**
 * Every POST /messages is held beyond CHAT_SERVICE_TIMEOUT_MS for `slowMs`, then for
 * `borderlineMs` each one is held for a time drawn around the timeout (some attempts commit just
 * as the gateway gives up), then the chat-service is fast again.
 */
async function chatSlow(b: Bounds): Promise<ScenarioResult> {
  const stack = await startStack(chatFaultEnv(b));
  const clients = new Clients(stack.url, (u) => stack.token(u));
  const watch = new BreakerWatch(stack.url, 'chat');
  const random = seededRandom(4242);
  try {
    const pairs = await connectPairs(clients, 'slow', b.pairs);
    const ledger = new Ledger();
    const policy = retryPolicy(b, b.slowMs + b.borderlineMs);
    const stream = startStream(pairs, b.intervalMs, (pair, id) => sendReliably(ledger, pair, id, policy));
    await sleep(b.warmupMs);

    const slowAt = Date.now();
    stack.chat.faults.add({ delayMs: CHAT_TIMEOUT_MS + 400, match: MESSAGE_WRITES });
    await sleep(b.slowMs);
    stack.chat.faults.clear();
    const fastAt = Date.now();
    await until(() => watch.firstAt(0, fastAt) !== undefined, b.halfOpenAfterMs * 3 + 5000);
    const closedAt = watch.firstAt(0, fastAt);

    const borderlineAt = Date.now();
    // Enough one-shot faults for every attempt of the phase; each is taken by one request in order.
    const borderlineRequests = Math.ceil((b.borderlineMs / b.intervalMs) * b.pairs * 4);
    for (let i = 0; i < borderlineRequests; i++) {
      const delayMs = Math.round(CHAT_TIMEOUT_MS + (random() * 2 - 1) * 150);
      stack.chat.faults.add({ delayMs, times: 1, match: MESSAGE_WRITES });
    }
    await sleep(b.borderlineMs);
    stack.chat.faults.clear();
    const normalAt = Date.now();
    await until(() => watch.firstAt(0, normalAt) !== undefined, b.halfOpenAfterMs * 3 + 5000);
    await sleep(b.afterMs);
    await stream.stop();
    const burst = await sendBurst(ledger, pairs, b.burst);
    await settleDeliveries(ledger, pairs);
    await watch.stop();

    const during = (from: number, to: number) => ledger.attempts().filter((a) => a.sentAt >= from && a.sentAt < to);
    const slow = during(slowAt, fastAt);
    const slowFailed = (code: string) => slow.filter((a) => a.code === code).length;
    return {
      name: SCENARIOS.slow,
      figures: {
        'sender/receiver pairs': b.pairs,
        'slow phase (ms)': b.slowMs,
        'slow phase: chat-service delay (ms)': CHAT_TIMEOUT_MS + 400,
        'borderline phase (ms)': b.borderlineMs,
        ...messageFigures(ledger, stack.chat.messages, pairs),
        'slow phase: send attempts': slow.length,
        [FIGURE.slowTimeout]: slowFailed('TIMEOUT'),
        [FIGURE.slowUnavailable]: slowFailed('SERVICE_UNAVAILABLE'),
        [FIGURE.slowOther]: slow.filter((a) => !a.ok && a.code !== 'TIMEOUT' && a.code !== 'SERVICE_UNAVAILABLE').length,
        'slow phase: acked ok': slow.filter((a) => a.ok).length,
        'borderline phase: attempts acked ok': during(borderlineAt, normalAt).filter((a) => a.ok).length,
        'borderline phase: attempts failed': during(borderlineAt, normalAt).filter((a) => !a.ok).length,
        [FIGURE.breakerOpenMs]: elapsed(slowAt, watch.firstAt(1, slowAt)),
        [FIGURE.breakerClosedMs]: elapsed(fastAt, closedAt),
        'message writes received by the chat-service (single calls and batch items)': messageWrites(stack.chat).length,
        ...burst,
      },
      notes: [
        `CHAT_SERVICE_TIMEOUT_MS=${CHAT_TIMEOUT_MS}, BREAKER_FAILURE_THRESHOLD=${BREAKER_THRESHOLD}, BREAKER_HALF_OPEN_AFTER_MS=${b.halfOpenAfterMs}, CHAT_SERVICE_RETRIES=2 (default).`,
        `Borderline phase: each message write (POST /messages or /messages/batch) held ${CHAT_TIMEOUT_MS - 150}..${CHAT_TIMEOUT_MS + 150} ms (seeded), so some commit as the gateway times out.`,
        'The reference chat-service drops a held request whose caller went away; a late commit shows as "stored during an attempt answered as a failure".',
        'Under concurrent load the attempts that time out open the breaker before the gateway\'s own retries are done, so the final ack is mostly SERVICE_UNAVAILABLE (circuit open) rather than TIMEOUT; both are retryable.',
      ],
    };
  } finally {
    await watch.stop();
    clients.closeAll();
    await stack.stop();
  }
}

function chatFaultEnv(b: Bounds): Record<string, string> {
  return {
    RATE_LIMIT_ENABLED: 'false',
    CHAT_SERVICE_TIMEOUT_MS: String(CHAT_TIMEOUT_MS),
    BREAKER_FAILURE_THRESHOLD: String(BREAKER_THRESHOLD),
    BREAKER_HALF_OPEN_AFTER_MS: String(b.halfOpenAfterMs),
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Auth-service down

/**
 * Local token verification with the auth-service stopped: users connect and disconnect; each of
 * their status updates fails, is dropped or cancels out, and is counted; connections are not affected. Then the auth-service
 * listens again and a few more users come and go.
 */
async function authDown(b: Bounds): Promise<ScenarioResult> {
  const stack = await startStack({
    RATE_LIMIT_ENABLED: 'false',
    MAX_CONNECTIONS_PER_IP_PER_MIN: '100000',
    AUTH_SERVICE_TIMEOUT_MS: '300',
    BREAKER_FAILURE_THRESHOLD: String(BREAKER_THRESHOLD),
    BREAKER_HALF_OPEN_AFTER_MS: String(b.halfOpenAfterMs),
  });
  const clients = new Clients(stack.url, (u) => stack.token(u));
  let restarted: RunningServer | undefined;
  try {
    const before = statusOutcomes(await metricsText(stack.url));
    await stack.auth.close();
    const connectMs: number[] = [];
    let accepted = 0;
    let refused = 0;
    const batch = 10;
    for (let i = 0; i < b.authUsers; i += batch) {
      const users = Array.from({ length: Math.min(batch, b.authUsers - i) }, (_, j) => `authdown-${i + j}`);
      const sockets = await Promise.all(
        users.map(async (user) => {
          const started = performance.now();
          try {
            const socket = await clients.connect(user);
            connectMs.push(performance.now() - started);
            accepted++;
            return socket;
          } catch {
            refused++;
            return undefined;
          }
        }),
      );
      for (const s of sockets) s?.disconnect();
    }
    await until(async () => (await health(stack)).connections === 0, 5000);
    const expectedDrops = 2 * accepted;
    const undelivered = (o: Record<StatusOutcome, number>) => o.failed + o.dropped + o.coalesced;
    await until(async () => undelivered(statusOutcomes(await metricsText(stack.url))) - undelivered(before) >= expectedDrops, 10_000);
    const during = statusOutcomes(await metricsText(stack.url));
    const dropped = undelivered(during) - undelivered(before);
    const breaker = sample(await metricsText(stack.url), 'gateway_circuit_breaker_state', { service: 'auth' });

    // The auth-service comes back: after the half-open wait, one user at a time (a half-open
    // breaker lets one trial call through), their status updates must arrive again.
    restarted = await startHttp(stack.auth.app, { port: stack.auth.port });
    await sleep(b.halfOpenAfterMs + 200);
    const returning = ['authback-0', 'authback-1', 'authback-2'];
    for (const user of returning) {
      const socket = await clients.connect(user);
      await until(() => stack.auth.statusHistory.some((s) => s.user_id === user && s.status === 'online'), 3000);
      socket.disconnect();
      await until(() => stack.auth.statusHistory.some((s) => s.user_id === user && s.status === 'offline'), 3000);
    }
    const recorded = stack.auth.statusHistory.filter((s) => returning.includes(s.user_id)).length;

    return {
      name: SCENARIOS.authDown,
      figures: {
        [FIGURE.connectionsTried]: b.authUsers,
        [FIGURE.connectionsAccepted]: accepted,
        'connections refused': refused,
        'time to connected, median (ms)': percentile(connectMs, 50),
        'time to connected, p95 (ms)': percentile(connectMs, 95),
        'status updates due (online + offline)': expectedDrops,
        [FIGURE.statusDropped]: dropped,
        [FIGURE.statusSent]: during.sent - before.sent,
        'auth breaker state after the churn (0 closed, 1 open, 2 half-open)': breaker ?? 'absent',
        'status updates recorded after the auth-service returned': recorded,
        'status updates due after the auth-service returned': 2 * returning.length,
      },
      notes: [
        'AUTH_MODE=local; AUTH_SERVICE_URL points at the reference auth-service, which stops listening before the churn.',
        `Users connect ${batch} at a time and disconnect at once; AUTH_SERVICE_TIMEOUT_MS=300, BREAKER_HALF_OPEN_AFTER_MS=${b.halfOpenAfterMs}.`,
      ],
    };
  } finally {
    clients.closeAll();
    await restarted?.close();
    await stack.stop();
  }
}

async function health(stack: Stack): Promise<{ connections: number }> {
  return (await (await fetch(`${stack.url}/health`)).json()) as { connections: number };
}

// ---------------------------------------------------------------------------------------------
// 4. SIGTERM under load

/**
 * A gateway process (`node --import tsx src/main.ts`, SHUTDOWN_TIMEOUT_MS=3000) in front of a
 * chat-service that holds every POST /messages for 300 ms. Senders stream messages and keep
 * sending until their socket is closed; SIGTERM comes mid-stream.
 */
async function shutdownUnderLoad(b: Bounds): Promise<ScenarioResult> {
  const auth = await startAuthService({ jwtSecret: TEST_SECRET });
  const chat = await startChatService();
  let gateway: GatewayProcess | undefined;
  let clients: Clients | undefined;
  try {
    chat.faults.add({ delayMs: SHUTDOWN_CHAT_DELAY_MS, match: MESSAGE_WRITES });
    gateway = await spawnGateway({ ...gatewayEnv({ auth, chat }), SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    const gw = gateway;
    clients = new Clients(gw.url, (u) => auth.issueToken(u));
    const pairs = await connectPairs(clients, 'term', b.shutdownPairs);
    const ledger = new Ledger();
    const stream = startStream(pairs, b.shutdownIntervalMs, async (pair, id) => {
      await ledger.attempt(pair, id, SHUTDOWN_TIMEOUT_MS + 5000);
    });
    await sleep(b.shutdownWarmupMs);

    const termAt = Date.now();
    const exiting = gw.kill('SIGTERM');
    const ready = pollReady(gw);
    const forced = setTimeout(() => void gw.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS + 5000);
    const exit = await exiting;
    clearTimeout(forced);
    const readyPolls = await ready;
    await stream.stop();

    const sent = ledger.attempts();
    const unanswered = sent.filter((a) => a.code === UNANSWERED);
    const storedKeys = storedByKey(chat.messages);
    const closedAt = pairs.map((p) => p.disconnectAt).filter((t): t is number => t !== undefined);
    return {
      name: SCENARIOS.shutdown,
      figures: {
        'sender/receiver pairs': b.shutdownPairs,
        'chat-service delay per POST /messages (ms)': SHUTDOWN_CHAT_DELAY_MS,
        SHUTDOWN_TIMEOUT_MS: SHUTDOWN_TIMEOUT_MS,
        'messages sent before SIGTERM': sent.filter((a) => a.sentAt < termAt).length,
        'messages sent after SIGTERM': sent.filter((a) => a.sentAt >= termAt).length,
        'messages sent after server_shutdown reached the sender': sent.filter((a) => a.afterShutdown).length,
        ...messageFigures(ledger, chat.messages, pairs),
        'unanswered (socket closed before the ack)': unanswered.length,
        'unanswered but stored (a retry with the same client_msg_id resolves it)': unanswered.filter((a) => storedKeys.has(a.key)).length,
        'sender sockets closed without server_shutdown first': pairs.filter((p) => p.disconnectAt !== undefined && !(p.shutdownAt! <= p.disconnectAt)).length,
        'SIGTERM → first server_shutdown (ms)': elapsed(termAt, min(pairs.map((p) => p.shutdownAt))),
        'SIGTERM → /ready 503 (ms)': elapsed(termAt, readyPolls.first503At),
        '/ready 200 answers after SIGTERM': readyPolls.ok200,
        [FIGURE.readyBeforeExit]: readyPolls.first503At !== undefined && readyPolls.first503At <= exit.at ? 'yes' : 'no',
        'SIGTERM → last sender socket closed (ms)': elapsed(termAt, closedAt.length ? Math.max(...closedAt) : undefined),
        'SIGTERM → process exit (ms)': exit.at - termAt,
        [FIGURE.exitCode]: exit.code ?? `signal ${exit.signal}`,
        'drain ended by SHUTDOWN_TIMEOUT_MS': gw.logged('shutdown timeout reached with work in flight') ? 'yes' : 'no',
      },
      notes: [
        'Senders keep sending after server_shutdown until their socket is closed (a naive client), and never retry here.',
        '"Unanswered" sends are resolved by a client resending the same client_msg_id elsewhere; "unanswered but stored" counts those the chat-service had already stored.',
      ],
    };
  } finally {
    clients?.closeAll();
    await gateway?.kill('SIGKILL');
    await Promise.all([auth.close(), chat.close()]);
  }
}

/** Polls `/ready` every 10 ms until the process exited. */
async function pollReady(gw: GatewayProcess): Promise<{ first503At?: number; ok200: number }> {
  const polls: { first503At?: number; ok200: number } = { ok200: 0 };
  while (gw.alive) {
    try {
      const res = await fetch(`${gw.url}/ready`, { signal: AbortSignal.timeout(500) });
      await res.arrayBuffer();
      if (res.status === 503) polls.first503At ??= Date.now();
      else if (res.status === 200) polls.ok200++;
    } catch {
      // Not listening any more: the process is on its way out.
    }
    await sleep(10);
  }
  return polls;
}

// ---------------------------------------------------------------------------------------------
// Senders, receivers and what they saw

/** A sender and the receiver it writes to, with the receiver's `receive_message` log. */
interface Pair {
  senderId: string;
  receiverId: string;
  sender: ClientSocket;
  receiver: ClientSocket;
  inbox: ChatMessage[];
  /** When the sender got `server_shutdown` and when its socket closed (epoch ms). */
  shutdownAt?: number;
  disconnectAt?: number;
}

/** Connected socket.io clients of one gateway (websocket, no reconnection), closed together. */
class Clients {
  private readonly sockets = new Set<ClientSocket>();

  constructor(
    private readonly url: string,
    private readonly token: (userId: string) => string,
  ) {}

  /** Resolves after `connected`; rejects on `connect_error` or after 5 s. */
  connect(userId: string): Promise<ClientSocket> {
    const socket = connectClient(this.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: this.token(userId) } });
    this.sockets.add(socket);
    return new Promise((done, failed) => {
      const timer = setTimeout(() => failed(new Error(`${userId} not connected within 5 s`)), 5000);
      socket.once('connected', () => {
        clearTimeout(timer);
        done(socket);
      });
      socket.once('connect_error', (e) => {
        clearTimeout(timer);
        failed(e);
      });
    });
  }

  closeAll(): void {
    for (const s of this.sockets) s.disconnect();
    this.sockets.clear();
  }
}

async function connectPairs(clients: Clients, prefix: string, n: number): Promise<Pair[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const senderId = `${prefix}-s${i}`;
      const receiverId = `${prefix}-r${i}`;
      const [sender, receiver] = await Promise.all([clients.connect(senderId), clients.connect(receiverId)]);
      const pair: Pair = { senderId, receiverId, sender, receiver, inbox: [] };
      receiver.on('receive_message', (p: { message: ChatMessage }) => pair.inbox.push(p.message));
      sender.once('server_shutdown', () => (pair.shutdownAt ??= Date.now()));
      sender.once('disconnect', () => (pair.disconnectAt ??= Date.now()));
      return pair;
    }),
  );
}

/** One `send_message` and how it was answered. */
interface Attempt {
  key: string;
  ok: boolean;
  /** The ack's error code, or NO_ACK / UNANSWERED. */
  code?: string;
  retryable: boolean;
  retryAfterMs?: number;
  message?: ChatMessage;
  /** Epoch ms. */
  sentAt: number;
  answeredAt: number;
  latencyMs: number;
  /** Sent after the socket received `server_shutdown`. */
  afterShutdown: boolean;
}

/** Every send attempt by key (`sender:client_msg_id`), with its pair. */
class Ledger {
  readonly sends = new Map<string, { pair: Pair; attempts: Attempt[] }>();

  async attempt(pair: Pair, clientMsgId: string, ackTimeoutMs = ACK_TIMEOUT_MS): Promise<Attempt> {
    const key = `${pair.senderId}:${clientMsgId}`;
    let send = this.sends.get(key);
    if (!send) this.sends.set(key, (send = { pair, attempts: [] }));
    const afterShutdown = pair.shutdownAt !== undefined;
    const sentAt = Date.now();
    const started = performance.now();
    let outcome: Pick<Attempt, 'ok' | 'code' | 'retryable' | 'retryAfterMs' | 'message'>;
    try {
      const payload = { receiver_id: pair.receiverId, content: `message ${clientMsgId}`, client_msg_id: clientMsgId };
      const ack = await request(pair.sender, 'send_message', payload, ackTimeoutMs);
      outcome = ack.ok
        ? { ok: true, retryable: false, message: ack.message }
        : { ok: false, code: ack.error?.code ?? 'MALFORMED_ACK', retryable: ack.error?.retryable === true, retryAfterMs: ack.error?.retry_after_ms };
    } catch (e) {
      const closed = /disconnected/.test((e as Error).message);
      outcome = { ok: false, code: closed ? UNANSWERED : NO_ACK, retryable: true };
    }
    const attempt: Attempt = { key, ...outcome, sentAt, answeredAt: Date.now(), latencyMs: round(performance.now() - started), afterShutdown };
    send.attempts.push(attempt);
    return attempt;
  }

  attempts(): Attempt[] {
    return [...this.sends.values()].flatMap((s) => s.attempts);
  }

  /** The message of the send's ok ack, if any. */
  static okMessage(send: { attempts: Attempt[] }): ChatMessage | undefined {
    return send.attempts.find((a) => a.ok)?.message;
  }
}

/** How a client retries a failed send. */
interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  giveUpAfterMs: number;
  random: () => number;
}

function retryPolicy(b: Bounds, faultMs: number): RetryPolicy {
  return { ...b.backoff, giveUpAfterMs: faultMs + b.halfOpenAfterMs * 2 + 15_000, random: seededRandom(7) };
}

/** Sends until acked ok, a non-retryable failure, or the policy gives up; same client_msg_id throughout. */
async function sendReliably(ledger: Ledger, pair: Pair, clientMsgId: string, policy: RetryPolicy): Promise<void> {
  const giveUpAt = Date.now() + policy.giveUpAfterMs;
  for (let n = 0; ; n++) {
    const attempt = await ledger.attempt(pair, clientMsgId);
    if (attempt.ok || !attempt.retryable || !pair.sender.connected || Date.now() >= giveUpAt) return;
    const backoff = attempt.retryAfterMs ?? Math.min(policy.maxMs, policy.baseMs * 2 ** n) * (0.5 + policy.random() / 2);
    await sleep(Math.max(0, Math.min(backoff, giveUpAt - Date.now())));
  }
}

/** Every sender starts a new message every `intervalMs` until `stop()`, which waits for all of them. */
function startStream(pairs: Pair[], intervalMs: number, send: (pair: Pair, clientMsgId: string) => Promise<void>): { stop(): Promise<void> } {
  let running = true;
  const tasks: Promise<void>[] = [];
  const loops = pairs.map(async (pair) => {
    for (let seq = 0; running && pair.sender.connected; seq++) {
      tasks.push(send(pair, `${pair.senderId}-${seq}`));
      await sleep(intervalMs);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      await Promise.all(tasks);
    },
  };
}

/** `burst` new messages per sender at once, no retries: the service is expected to be back. */
async function sendBurst(ledger: Ledger, pairs: Pair[], burst: number): Promise<Record<string, number>> {
  const attempts = await Promise.all(pairs.flatMap((pair) => Array.from({ length: burst }, (_, i) => ledger.attempt(pair, `${pair.senderId}-burst-${i}`))));
  return { [FIGURE.burstSent]: attempts.length, [FIGURE.burstOk]: attempts.filter((a) => a.ok).length };
}

/** Waits (bounded) until every receiver has every message acked ok to its sender. */
async function settleDeliveries(ledger: Ledger, pairs: Pair[]): Promise<void> {
  const missing = () =>
    [...ledger.sends.values()].some((send) => {
      const message = Ledger.okMessage(send);
      return message !== undefined && !send.pair.inbox.some((m) => m.message_id === message.message_id);
    });
  await until(() => !missing(), 5000);
  // One round trip per receiver: anything relayed before is in by then.
  await Promise.all(pairs.map((p) => request(p.receiver, 'get_online_users', {}).catch(() => undefined)));
}

function storedByKey(messages: Map<string, StoredMessage>): Map<string, StoredMessage[]> {
  const byKey = new Map<string, StoredMessage[]>();
  for (const m of messages.values()) {
    if (m.client_msg_id === undefined) continue;
    const key = `${m.sender_id}:${m.client_msg_id}`;
    byKey.set(key, [...(byKey.get(key) ?? []), m]);
  }
  return byKey;
}

/** What senders were told, what the chat-service stored and what receivers saw, cross-checked. */
function messageFigures(ledger: Ledger, messages: Map<string, StoredMessage>, pairs: Pair[]): Record<string, number> {
  const stored = storedByKey(messages);
  const okIds = new Set<string>();
  const failures = new Map<string, number>();
  let ackedOk = 0;
  let okNotStored = 0;
  let neededRetry = 0;
  let notOk = 0;
  let storedNotOk = 0;
  let storedDuringFailure = 0;
  for (const [key, send] of ledger.sends) {
    for (const a of send.attempts) if (!a.ok) failures.set(a.code!, (failures.get(a.code!) ?? 0) + 1);
    const okMessage = Ledger.okMessage(send);
    const first = stored.get(key)?.[0];
    if (okMessage) {
      ackedOk++;
      okIds.add(okMessage.message_id);
      if (!messages.has(okMessage.message_id)) okNotStored++;
      if (send.attempts.length > 1) neededRetry++;
    } else {
      notOk++;
      if (first) storedNotOk++;
    }
    if (first) {
      const createdAt = Date.parse(first.created_at);
      if (send.attempts.some((a) => !a.ok && a.sentAt <= createdAt && createdAt <= a.answeredAt)) storedDuringFailure++;
    }
  }
  let deliveries = 0;
  let sawUnstored = 0;
  let sawNeverOk = 0;
  let duplicateDeliveries = 0;
  for (const pair of pairs) {
    const seen = new Set<string>();
    for (const m of pair.inbox) {
      deliveries++;
      if (!messages.has(m.message_id)) sawUnstored++;
      if (!okIds.has(m.message_id)) sawNeverOk++;
      if (seen.has(m.message_id)) duplicateDeliveries++;
      seen.add(m.message_id);
    }
  }
  let okNotDelivered = 0;
  for (const send of ledger.sends.values()) {
    const message = Ledger.okMessage(send);
    if (message && !send.pair.inbox.some((m) => m.message_id === message.message_id)) okNotDelivered++;
  }
  const attempts = ledger.attempts();
  return {
    [FIGURE.attempted]: ledger.sends.size,
    'send attempts (including client retries)': attempts.length,
    [FIGURE.ackedOk]: ackedOk,
    'acked ok only after a client retry': neededRetry,
    ...Object.fromEntries([...failures].sort().map(([code, n]) => [`failed acks: ${code}`, n])),
    [FIGURE.nonRetryable]: attempts.filter((a) => !a.ok && !a.retryable).length,
    'messages never acked ok': notOk,
    [FIGURE.ackedNotStored]: okNotStored,
    [FIGURE.duplicates]: [...stored.values()].reduce((n, list) => n + list.length - 1, 0),
    'stored but never acked ok': storedNotOk,
    'stored during an attempt answered as a failure': storedDuringFailure,
    'receiver deliveries': deliveries,
    [FIGURE.sawUnstored]: sawUnstored,
    'receivers saw a message never acked ok to its sender': sawNeverOk,
    'duplicate deliveries (same message_id twice to one receiver)': duplicateDeliveries,
    [FIGURE.ackedNotDelivered]: okNotDelivered,
  };
}

// ---------------------------------------------------------------------------------------------
// Breaker watch and small helpers

/** Polls GET /metrics for `gateway_circuit_breaker_state{service}` every 50 ms until stopped. */
class BreakerWatch {
  private readonly samples: Array<{ at: number; state: number | undefined }> = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly service: string,
  ) {
    this.loop = this.poll();
  }

  /** When the state was first seen as `state` at or after `after` (epoch ms). */
  firstAt(state: number, after: number): number | undefined {
    return this.samples.find((s) => s.at >= after && s.state === state)?.at;
  }

  /** How often the state was seen changing to `state` at or after `after`. */
  changesTo(state: number, after: number): number {
    const seen = this.samples.filter((s) => s.at >= after && s.state !== undefined);
    return seen.filter((s, i) => s.state === state && i > 0 && seen[i - 1].state !== state).length;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async poll(): Promise<void> {
    while (this.running) {
      try {
        const state = sample(await metricsText(this.url), 'gateway_circuit_breaker_state', { service: this.service });
        this.samples.push({ at: Date.now(), state });
      } catch {
        // A missed sample: the next one comes 50 ms later.
      }
      await sleep(50);
    }
  }
}

async function metricsText(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) });
  return res.text();
}

/** Polls `check` every 20 ms; false (not a throw) when it still fails after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
}

/** `to - from` in ms, or "never" when `to` did not happen. */
function elapsed(from: number, to: number | undefined): number | string {
  return to === undefined ? 'never' : to - from;
}

function min(values: Array<number | undefined>): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length ? Math.min(...defined) : undefined;
}

/** The `p`th percentile (nearest rank), or "n/a" without values. */
function percentile(values: number[], p: number): number | string {
  if (values.length === 0) return 'n/a';
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

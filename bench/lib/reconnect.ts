/**
 * Load sockets that come back by themselves, as socket.io-client and the typed client do: after
 * `server_shutdown` a socket reconnects `reconnect_after_ms` (plus up to half again) after the
 * server closed it; after any other loss, and after a failed attempt, it waits socket.io-client's
 * backoff; a refusal carrying `retry_after_ms` (`SERVER_BUSY`, contract section 1) is retried after it.
 */
import { BenchSocket, ConnectRefused, type SocketListener } from './benchSocket.js';
import { Histogram } from './histogram.js';
import { TokenSigner } from './jwt.js';
import { nowMs, type ReconnectedCmd, type ReconnectedResult, type ReconnectPolicy } from './loadProtocol.js';

/** socket.io-client's `Backoff.duration()` for the `attempt`-th retry (from 0). */
export function backoffDelay(policy: ReconnectPolicy, attempt: number, random = Math.random()): number {
  const ms = policy.minDelayMs * 2 ** attempt;
  const deviation = Math.floor(random * policy.jitter * ms);
  return Math.floor(Math.min((Math.floor(random * 10) & 1) === 0 ? ms - deviation : ms + deviation, policy.maxDelayMs));
}

/** A short name for why an attempt failed: the refusal's code, the HTTP status, or the network error. */
export function failureCause(e: Error): string {
  if (e instanceof ConnectRefused) return e.code ?? 'connect_error';
  const status = /Unexpected server response: (\d+)/.exec(e.message);
  if (status) return `http ${status[1]}`;
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code === 'string') return code;
  return e.message.replace(/ \(\d+\)$/, '').slice(0, 60);
}

interface Entry {
  user: string;
  url: string;
  auth: object;
  policy: ReconnectPolicy;
  /** The socket open or being opened now. */
  socket: BenchSocket;
  /** `reconnect_after_ms` of a `server_shutdown` received on the current socket. */
  notice?: number;
  /** Failed attempts since the last success, as socket.io-client counts them for its backoff. */
  attempt: number;
  timer?: NodeJS.Timeout;
  lostAtMs?: number;
  backAtMs?: number;
  noticed: boolean;
  gaveUp: boolean;
}

/**
 * The sockets of a load process that are kept up. The process's listener tells it of
 * `server_shutdown` (`noticed`) and of closes (`lost`); a socket back is put in `sockets`.
 */
export class ReconnectingSockets {
  private readonly entries = new Map<string, Entry>();
  /** Sockets already lost: the close that follows a server's disconnect, however late, is theirs. */
  private readonly released = new WeakSet<BenchSocket>();
  private attempts = 0;
  private failures: Record<string, number> = {};
  private longestRetryAfterMs = 0;
  private errors: string[] = [];

  constructor(
    /** Each user's open socket in this process. */
    private readonly sockets: Map<string, BenchSocket>,
    /** The listener of the process's sockets, given to every socket opened again. */
    private readonly listener: SocketListener,
  ) {}

  /** Keeps the open sockets of `users`, connected to `url` with tokens signed by `jwtSecret`, up from now on. */
  adopt(users: string[], url: string, jwtSecret: string, policy: ReconnectPolicy): void {
    const signer = new TokenSigner(jwtSecret);
    for (const user of users) {
      const socket = this.sockets.get(user);
      if (!socket?.open) continue;
      const auth = { token: signer.sign(user), user_id: user };
      this.entries.set(user, { user, url, auth, policy, socket, attempt: 0, noticed: false, gaveUp: false });
    }
  }

  /** Resolves once every socket lost at or after `sinceMs` is back (or gave up), or after `timeoutMs`, with what happened. */
  async reconnected(cmd: ReconnectedCmd): Promise<ReconnectedResult> {
    const deadline = performance.now() + cmd.timeoutMs;
    const settled = (e: Entry) => e.gaveUp || (e.lostAtMs !== undefined && e.lostAtMs >= cmd.sinceMs && e.backAtMs !== undefined);
    while (performance.now() < deadline && ![...this.entries.values()].every(settled)) await new Promise((r) => setTimeout(r, 20));
    const backAfter = new Histogram();
    const result: Omit<ReconnectedResult, 'backAfter'> = {
      users: this.entries.size, back: 0, down: 0, gaveUp: 0, neverLost: 0, noticed: 0,
      attempts: this.attempts, failures: this.failures, longestRetryAfterMs: this.longestRetryAfterMs, errors: this.errors,
    };
    for (const e of this.entries.values()) {
      if (e.lostAtMs === undefined || e.lostAtMs < cmd.sinceMs) {
        result.neverLost++;
        continue;
      }
      if (e.noticed) result.noticed++;
      result.firstLostAtMs = Math.min(result.firstLostAtMs ?? Infinity, e.lostAtMs);
      if (e.backAtMs === undefined) {
        result.down++;
        if (e.gaveUp) result.gaveUp++;
        continue;
      }
      result.back++;
      result.lastBackAtMs = Math.max(result.lastBackAtMs ?? 0, e.backAtMs);
      backAfter.record(e.backAtMs - cmd.sinceMs);
    }
    this.attempts = 0;
    this.failures = {};
    this.longestRetryAfterMs = 0;
    this.errors = [];
    return { ...result, backAfter: backAfter.toJSON() };
  }

  /** Stops every reconnection; sockets still opening are closed (open ones are the caller's to close). */
  async stop(timeoutMs: number): Promise<void> {
    const opening: BenchSocket[] = [];
    for (const e of this.entries.values()) {
      clearTimeout(e.timer);
      if (!e.socket.open) opening.push(e.socket);
    }
    this.entries.clear();
    await Promise.all(opening.map((s) => s.close(timeoutMs)));
  }

  /** A `server_shutdown` arrived on `socket`: the wait before its reconnection is the notice's. */
  noticed(socket: BenchSocket, frame: string): void {
    const entry = this.entries.get(socket.user);
    if (entry?.socket !== socket) return;
    try {
      const [, payload] = JSON.parse(frame.slice(2)) as [string, { reconnect_after_ms?: unknown }];
      if (typeof payload?.reconnect_after_ms === 'number') entry.notice = payload.reconnect_after_ms;
    } catch {
      // a malformed notice is no notice
    }
  }

  /**
   * `socket` was disconnected by the server, or closed unasked: true when it is kept up (its
   * reconnection is planned then; the close that follows a server's disconnect changes nothing).
   */
  lost(socket: BenchSocket): boolean {
    if (this.released.has(socket)) return true;
    const entry = this.entries.get(socket.user);
    if (entry?.socket !== socket) return false;
    this.released.add(socket);
    entry.lostAtMs = nowMs();
    entry.backAtMs = undefined;
    entry.noticed = entry.notice !== undefined;
    // The typed client's wait after a notice; socket.io-client's backoff after any other loss.
    const delay = entry.notice !== undefined ? entry.notice * (1 + Math.random() / 2) : backoffDelay(entry.policy, entry.attempt++);
    entry.notice = undefined;
    this.retryAfter(entry, delay);
    return true;
  }

  private retryAfter(entry: Entry, delayMs: number): void {
    if (nowMs() + delayMs - (entry.lostAtMs ?? 0) > entry.policy.giveUpAfterMs) {
      entry.gaveUp = true;
      return;
    }
    entry.timer = setTimeout(() => this.attempt(entry), delayMs);
  }

  private attempt(entry: Entry): void {
    if (this.entries.get(entry.user) !== entry) return;
    this.attempts++;
    const socket = new BenchSocket(entry.user, this.listener);
    entry.socket = socket;
    socket.connect(entry.url, entry.auth, entry.policy.timeoutMs).then(
      () => {
        if (this.entries.get(entry.user) !== entry) return void socket.close(1000);
        entry.attempt = 0;
        entry.backAtMs = nowMs();
        this.sockets.set(entry.user, socket);
      },
      (e: Error) => {
        if (this.entries.get(entry.user) !== entry) return;
        const cause = failureCause(e);
        this.failures[cause] = (this.failures[cause] ?? 0) + 1;
        if (this.failures[cause] === 1 && this.errors.length < 8) this.errors.push(e.message.slice(0, 160));
        const retryAfterMs = e instanceof ConnectRefused ? e.retryAfterMs : undefined;
        this.longestRetryAfterMs = Math.max(this.longestRetryAfterMs, retryAfterMs ?? 0);
        this.retryAfter(entry, retryAfterMs ?? backoffDelay(entry.policy, entry.attempt++));
      },
    );
  }
}

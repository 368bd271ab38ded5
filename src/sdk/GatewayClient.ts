import { io, type Socket } from 'socket.io-client';
import type { AckResponse, ClientToServerEvents, ServerToClientEvents } from '../contract/index.js';
import { GatewayClientError, isGatewayClientError } from './GatewayClientError.js';
import { tokenExpiresAt } from './token.js';
import type {
  AckDataOf,
  ClientEvent,
  ConnectedInfo,
  ConnectionState,
  GatewayClientOptions,
  ListenerOf,
  PayloadOf,
  ServerEvent,
  StateChange,
} from './types.js';

const DEFAULTS = {
  transports: ['websocket'] as Array<'websocket' | 'polling'>,
  ackTimeoutMs: 10_000,
  maxSendAttempts: 5,
  retryDelayMs: 250,
  refreshBeforeExpiryMs: 60_000,
  autoRefresh: true,
  reconnectDelayMs: 500,
  reconnectDelayMaxMs: 5000,
};
/** Longest wait between two send attempts. */
const MAX_RETRY_DELAY_MS = 5000;
/** Reconnections refused at the handshake (expired token, rate limit...) tried again before giving up. */
const MAX_REFUSED_RECONNECTS = 3;
/**
 * Handshakes refused with SERVER_BUSY tried again (after `retry_after_ms` each) before giving up:
 * more than other refusals, since the gateway is up and spreads its clients' returns over time.
 */
const MAX_BUSY_RETRIES = 10;
/** setTimeout cannot wait longer than this (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

type Options = typeof DEFAULTS & GatewayClientOptions;
type Waiter = { resolve: () => void; reject: (e: GatewayClientError) => void };
/** The socket without its event typing, for the generic call and listener paths. */
type UntypedSocket = Socket;

/**
 * The typed client of the chat gateway: a thin wrapper over `socket.io-client` that speaks the
 * contract's events (declared once, in `src/contract/`) as promises.
 *
 * - Every acked event is a method resolving with the ack's data, or rejecting with a
 *   {@link GatewayClientError} (`{ ok: false }` ack, ack timeout, lost connection).
 * - `sendMessage`/`sendGroupMessage` add a `client_msg_id` when missing and retry with the same
 *   id after a lost connection or a retryable failure, so one call stores one message.
 * - `getToken` is asked for a token before each (re)connection and before the token expires
 *   (then sent with `refresh_token`); after `error {AUTH_EXPIRED}` the client reconnects with a new one.
 * - After `server_shutdown` it reconnects once `reconnect_after_ms` has passed, and after any
 *   reconnection it rejoins its rooms and renews its presence subscriptions.
 *
 * @example
 * const client = new GatewayClient('http://localhost:3002', { getToken: () => fetchToken() });
 * const { user_id } = await client.connect();
 * client.on('receive_message', ({ message }) => console.log(message.sender_id, message.content));
 * const { message } = await client.sendMessage({ receiver_id: 'bob', content: 'hi' });
 */
export class GatewayClient {
  /** The underlying socket.io-client socket, for what this wrapper does not cover. */
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly opts: Options;
  private token: string | undefined;
  private greeting: ConnectedInfo | undefined;
  private current: ConnectionState = 'disconnected';
  private everConnected = false;
  private closed = false;
  /** Set by `server_shutdown`: reconnect this long after the server disconnects us. */
  private shutdownNotice: number | undefined;
  /** Set by `error {AUTH_EXPIRED}`: the server is about to disconnect us for an expired token. */
  private tokenExpired = false;
  private refusedReconnects = 0;
  /** A `connect()` call is waiting: its refusal is reported to its caller, not retried. */
  private connectPending = false;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly stateListeners = new Set<(change: StateChange) => void>();
  /** Rooms joined and users watched, restored after a reconnection. */
  private readonly rooms = new Set<string>();
  private readonly watched = new Set<string>();

  /**
   * @param url the gateway's base URL, e.g. `http://localhost:3002`
   * @throws TypeError when neither `token` nor `getToken` is given
   */
  constructor(
    readonly url: string,
    options: GatewayClientOptions,
  ) {
    if (options.token === undefined && options.getToken === undefined) throw new TypeError('GatewayClient needs token or getToken');
    this.opts = { ...DEFAULTS, ...stripUndefined(options) };
    this.token = options.token;
    this.socket = io(url, {
      forceNew: true,
      transports: this.opts.transports,
      reconnectionDelay: this.opts.reconnectDelayMs,
      reconnectionDelayMax: this.opts.reconnectDelayMaxMs,
      ...options.socketOptions,
      autoConnect: false,
      auth: (cb) => void this.nextToken().then((token) => cb({ token }), () => cb({})),
    });
    this.socket.on('connected', (info) => void this.onGreeting(info));
    this.socket.on('disconnect', (reason) => this.onDisconnect(reason));
    this.socket.on('connect_error', (err) => this.onConnectError(err));
    this.socket.on('server_shutdown', ({ reconnect_after_ms }) => {
      this.shutdownNotice = reconnect_after_ms;
      this.setState({ state: 'reconnecting', reason: 'server_shutdown', reconnect_in_ms: reconnect_after_ms });
    });
    // Removed by the backend: not a room to join again after a reconnection.
    this.socket.on('room_removed', ({ room_id }) => this.rooms.delete(room_id));
    this.socket.on('error', ({ code }) => {
      if (code === 'AUTH_EXPIRED') this.tokenExpired = true;
    });
    this.socket.io.on('reconnect_attempt', () => this.current !== 'reconnecting' && this.setState({ state: 'reconnecting' }));
  }

  /** Where the connection stands. */
  get state(): ConnectionState {
    return this.current;
  }

  /** The server's greeting while connected (`socket_id`, `user_id`, `server_time`), else undefined. */
  get session(): ConnectedInfo | undefined {
    return this.greeting;
  }

  /**
   * Connects and resolves with the server's `connected` greeting. A gateway too busy to take the
   * handshake (`SERVER_BUSY`) is asked again after the `retry_after_ms` it gives, 10 times at most.
   * @throws GatewayClientError with the handshake's code (`AUTH_INVALID`, `AUTH_EXPIRED`...) when refused,
   *   `SERVICE_UNAVAILABLE` when the gateway cannot be reached; the client then stays disconnected.
   */
  connect(): Promise<ConnectedInfo> {
    if (this.closed) return Promise.reject(GatewayClientError.of('CLOSED', 'the client is closed'));
    if (this.greeting) return Promise.resolve(this.greeting);
    return new Promise((resolve, reject) => {
      let busyRetries = 0;
      const cleanup = () => {
        this.connectPending = false;
        this.socket.off('connected', onConnected);
        this.socket.off('connect_error', onError);
        this.waiters.delete(closing);
      };
      const onConnected = (info: ConnectedInfo) => {
        cleanup();
        resolve(info);
      };
      const onError = (err: Error) => {
        const error = handshakeError(err);
        if (error.code === 'SERVER_BUSY' && busyRetries++ < MAX_BUSY_RETRIES) {
          const delay = error.retry_after_ms ?? this.opts.reconnectDelayMs;
          this.setState({ state: this.current, reason: 'server_busy', reconnect_in_ms: delay, error });
          this.reconnectLater(delay);
          return;
        }
        cleanup();
        this.socket.disconnect();
        this.setState({ state: 'disconnected', reason: 'connect_error', error });
        this.rejectWaiters(error);
        reject(error);
      };
      // close() while waiting to retry ends the attempt.
      const closing: Waiter = { resolve: () => undefined, reject: (e) => (cleanup(), reject(e)) };
      this.connectPending = true;
      this.waiters.add(closing);
      this.socket.on('connected', onConnected);
      this.socket.on('connect_error', onError);
      this.setState({ state: this.everConnected ? 'reconnecting' : 'connecting' });
      this.socket.connect();
    });
  }

  /** Disconnects for good: pending calls reject with `CLOSED`, no reconnection follows. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.reconnectTimer);
    this.rejectWaiters(GatewayClientError.of('CLOSED', 'the client is closed'));
    this.socket.disconnect();
    this.greeting = undefined;
    this.setState({ state: 'closed' });
  }

  /** Listens to a server → client event; the listener stays across reconnections. */
  on<E extends ServerEvent>(event: E, listener: ListenerOf<E>): this {
    (this.socket as unknown as UntypedSocket).on(event as string, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Listens to the next occurrence of a server → client event only. */
  once<E extends ServerEvent>(event: E, listener: ListenerOf<E>): this {
    (this.socket as unknown as UntypedSocket).once(event as string, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Removes a listener added with `on`/`once` (all of the event's listeners when none is given). */
  off<E extends ServerEvent>(event: E, listener?: ListenerOf<E>): this {
    (this.socket as unknown as UntypedSocket).off(event as string, listener as ((...args: unknown[]) => void) | undefined);
    return this;
  }

  /** Calls `listener` on every change of {@link state}; returns a function that stops it. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /**
   * Sends a direct or room message, persisted before it is acknowledged. A `client_msg_id` is
   * added when missing; lost connections and retryable failures are retried with that same id
   * (at most `maxSendAttempts` attempts), so the message is stored once.
   */
  sendMessage(payload: PayloadOf<'send_message'>): Promise<AckDataOf<'send_message'>> {
    return this.sendWithRetry('send_message', payload);
  }

  /** Sends a room message; retried like {@link sendMessage}. */
  sendGroupMessage(payload: PayloadOf<'send_group_message'>): Promise<AckDataOf<'send_group_message'>> {
    return this.sendWithRetry('send_group_message', payload);
  }

  /** Joins a room (membership is checked); rejoined automatically after a reconnection. */
  async joinRoom(payload: PayloadOf<'join_room'>): Promise<AckDataOf<'join_room'>> {
    const data = await this.call('join_room', payload);
    this.rooms.add(payload.room_id);
    return data;
  }

  /** Leaves a room. */
  async leaveRoom(payload: PayloadOf<'leave_room'>): Promise<AckDataOf<'leave_room'>> {
    this.rooms.delete(payload.room_id);
    return this.call('leave_room', payload);
  }

  /** Tells the receiver or the room that this user is typing. */
  typing(payload: PayloadOf<'typing'>): Promise<AckDataOf<'typing'>> {
    return this.call('typing', payload);
  }

  /** Tells the receiver or the room that this user stopped typing. */
  stopTyping(payload: PayloadOf<'stop_typing'>): Promise<AckDataOf<'stop_typing'>> {
    return this.call('stop_typing', payload);
  }

  /** Marks a received message delivered; its sender gets `message_status_update`. */
  markDelivered(payload: PayloadOf<'message_delivered'>): Promise<AckDataOf<'message_delivered'>> {
    return this.call('message_delivered', payload);
  }

  /** Marks a received message read; its sender gets `message_status_update` and `message_read_receipt`. */
  markRead(payload: PayloadOf<'message_read'>): Promise<AckDataOf<'message_read'>> {
    return this.call('message_read', payload);
  }

  /** Deletes one of this user's messages; the conversation gets `message_deleted`. */
  deleteMessage(payload: PayloadOf<'delete_message'>): Promise<AckDataOf<'delete_message'>> {
    return this.call('delete_message', payload);
  }

  /** The online subset of `user_ids`, or every online user when omitted. */
  getOnlineUsers(payload: PayloadOf<'get_online_users'> = {}): Promise<AckDataOf<'get_online_users'>> {
    return this.call('get_online_users', payload);
  }

  /** Subscribes to `user_connected`/`user_disconnected` of these users; renewed after a reconnection. */
  async subscribePresence(payload: PayloadOf<'presence_subscribe'>): Promise<AckDataOf<'presence_subscribe'>> {
    const data = await this.call('presence_subscribe', payload);
    for (const id of payload.user_ids) this.watched.add(id);
    return data;
  }

  /** Stops presence events of these users. */
  unsubscribePresence(payload: PayloadOf<'presence_unsubscribe'>): Promise<AckDataOf<'presence_unsubscribe'>> {
    for (const id of payload.user_ids) this.watched.delete(id);
    return this.call('presence_unsubscribe', payload);
  }

  /**
   * Sends a newer token for the same user so the connection outlives the current one; without
   * `token`, asks `getToken` for it. The client does this by itself before expiry (`autoRefresh`).
   */
  async refreshToken(token?: string): Promise<AckDataOf<'refresh_token'>> {
    const next = token ?? (await this.fetchToken());
    const data = await this.call('refresh_token', { token: next });
    this.token = next;
    this.scheduleRefresh();
    return data;
  }

  /**
   * Emits an acked event and resolves with the ack's data. Waits up to `ackTimeoutMs` for a
   * connection when there is none (the client is connecting or reconnecting).
   */
  private async call<E extends ClientEvent>(event: E, payload: PayloadOf<E>): Promise<AckDataOf<E>> {
    await this.whenConnected(event);
    let response: AckResponse<object>;
    try {
      response = await (this.socket as unknown as UntypedSocket).timeout(this.opts.ackTimeoutMs).emitWithAck(event, payload);
    } catch (e) {
      if (this.closed) throw GatewayClientError.of('CLOSED', 'the client is closed', event);
      if ((e as Error).message === 'socket has been disconnected') {
        throw GatewayClientError.of('DISCONNECTED', `the connection dropped before ${event} was acknowledged`, event);
      }
      throw GatewayClientError.of('TIMEOUT', `no ack for ${event} within ${this.opts.ackTimeoutMs} ms`, event);
    }
    if (typeof response !== 'object' || response === null) throw GatewayClientError.of('INTERNAL', `malformed ack for ${event}`, event);
    if (!response.ok) throw new GatewayClientError({ ...response.error, event });
    const { ok: _ok, ...data } = response;
    return data as AckDataOf<E>;
  }

  private async sendWithRetry<E extends 'send_message' | 'send_group_message'>(event: E, payload: PayloadOf<E>): Promise<AckDataOf<E>> {
    const withId = { ...payload, client_msg_id: payload.client_msg_id ?? newClientMsgId() } as PayloadOf<E>;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.call(event, withId);
      } catch (e) {
        if (!isGatewayClientError(e) || !e.retryable || attempt >= this.opts.maxSendAttempts || this.closed) throw e;
        await sleep(e.retry_after_ms ?? Math.min(this.opts.retryDelayMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS));
      }
    }
  }

  /** Resolves once greeted by the server; rejects at once when nothing is going to connect. */
  private whenConnected(event: string): Promise<void> {
    if (this.closed) return Promise.reject(GatewayClientError.of('CLOSED', 'the client is closed', event));
    if (this.greeting && this.socket.connected) return Promise.resolve();
    if (this.current === 'disconnected') return Promise.reject(GatewayClientError.of('DISCONNECTED', 'not connected', event));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(GatewayClientError.of('DISCONNECTED', `not connected within ${this.opts.ackTimeoutMs} ms`, event));
      }, this.opts.ackTimeoutMs);
      const waiter: Waiter = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.waiters.add(waiter);
    });
  }

  private async onGreeting(info: ConnectedInfo): Promise<void> {
    const again = this.everConnected;
    this.everConnected = true;
    this.greeting = info;
    this.shutdownNotice = undefined;
    this.tokenExpired = false;
    this.refusedReconnects = 0;
    this.scheduleRefresh();
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters.clear();
    if (again) await this.restore();
    if (this.greeting === info) this.setState({ state: 'connected' });
  }

  /** Rooms and presence subscriptions belong to a socket: a new socket takes them up again. */
  private async restore(): Promise<void> {
    const report = (e: unknown) => isGatewayClientError(e) && this.opts.onError?.(e);
    const rooms = [...this.rooms].map((room_id) => this.call('join_room', { room_id }).catch(report));
    const watched = this.watched.size > 0 ? this.call('presence_subscribe', { user_ids: [...this.watched] }).catch(report) : undefined;
    await Promise.all([...rooms, watched]);
  }

  private onDisconnect(reason: Socket.DisconnectReason): void {
    this.greeting = undefined;
    clearTimeout(this.refreshTimer);
    if (this.closed || reason === 'io client disconnect') return;
    if (reason !== 'io server disconnect') {
      // Lost transport or missed pings: socket.io-client reconnects by itself.
      this.setState({ state: 'reconnecting', reason });
      return;
    }
    // socket.io-client never reconnects after a server-side disconnect: do it when it is expected.
    if (this.shutdownNotice !== undefined) {
      const delay = this.shutdownNotice + Math.random() * (this.shutdownNotice / 2);
      this.setState({ state: 'reconnecting', reason: 'server_shutdown', reconnect_in_ms: Math.round(delay) });
      this.reconnectLater(delay);
    } else if (this.tokenExpired && this.opts.getToken) {
      this.setState({ state: 'reconnecting', reason: 'auth_expired' });
      this.reconnectLater(0);
    } else {
      this.setState({ state: 'disconnected', reason });
      this.rejectWaiters(GatewayClientError.of('DISCONNECTED', 'disconnected by the server'));
    }
  }

  /** A refused reconnection (the first connection's refusal is `connect()`'s to report). */
  private onConnectError(err: Error): void {
    if (this.closed || this.connectPending) return;
    const error = handshakeError(err);
    const refused = (err as Error & { data?: unknown }).data !== undefined;
    if (!refused) return; // unreachable gateway: socket.io-client keeps trying with backoff
    const tokenTrouble = error.code.startsWith('AUTH_') && this.opts.getToken !== undefined;
    const retries = error.code === 'SERVER_BUSY' ? MAX_BUSY_RETRIES : MAX_REFUSED_RECONNECTS;
    if ((tokenTrouble || error.retryable) && this.refusedReconnects < retries) {
      this.refusedReconnects++;
      const delay = error.retry_after_ms ?? this.opts.reconnectDelayMs * this.refusedReconnects;
      if (error.code === 'SERVER_BUSY') this.setState({ state: 'reconnecting', reason: 'server_busy', reconnect_in_ms: delay, error });
      this.reconnectLater(delay);
      return;
    }
    this.setState({ state: 'disconnected', reason: 'connect_error', error });
    this.rejectWaiters(error);
  }

  private reconnectLater(delayMs: number): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, delayMs);
  }

  /** Plans the next refresh before the current token expires (at most a quarter of its remaining life early). */
  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    const expiresAt = this.token === undefined ? null : tokenExpiresAt(this.token);
    if (!this.opts.autoRefresh || !this.opts.getToken || expiresAt === null || this.closed) return;
    const left = expiresAt - Date.now();
    const early = Math.min(this.opts.refreshBeforeExpiryMs, left / 4);
    this.refreshTimer = setTimeout(() => void this.refreshBeforeExpiry(expiresAt), Math.min(Math.max(0, left - early), MAX_TIMER_MS));
  }

  private async refreshBeforeExpiry(expiresAt: number): Promise<void> {
    try {
      const next = await this.fetchToken();
      if ((tokenExpiresAt(next) ?? Infinity) <= expiresAt) {
        // Not newer: ask again a little later while there is time; at expiry the server decides.
        const left = expiresAt - Date.now();
        if (left > 1000) this.refreshTimer = setTimeout(() => void this.refreshBeforeExpiry(expiresAt), left / 2);
        return;
      }
      await this.refreshToken(next);
    } catch (e) {
      const error = isGatewayClientError(e) ? e : GatewayClientError.of('AUTH_INVALID', `getToken failed: ${(e as Error).message}`, 'refresh_token');
      this.opts.onError?.(error);
      const left = expiresAt - Date.now();
      if (this.greeting && error.retryable && left > 1000) {
        this.refreshTimer = setTimeout(() => void this.refreshBeforeExpiry(expiresAt), Math.min(left / 2, MAX_RETRY_DELAY_MS));
      }
    }
  }

  /** The token for a (re)connection: `token` the first time when given, else `getToken`'s. */
  private async nextToken(): Promise<string> {
    if (this.opts.getToken && (this.everConnected || this.tokenExpired || this.token === undefined)) this.token = await this.fetchToken();
    return this.token ?? '';
  }

  private async fetchToken(): Promise<string> {
    if (!this.opts.getToken) throw GatewayClientError.of('AUTH_MISSING', 'no getToken to ask for a new token');
    return this.opts.getToken();
  }

  private rejectWaiters(error: GatewayClientError): void {
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }

  private setState(change: StateChange): void {
    this.current = change.state;
    for (const listener of this.stateListeners) listener(change);
  }
}

/** A `connect_error` as a client error: the handshake's code, or SERVICE_UNAVAILABLE when unreachable. */
function handshakeError(err: Error): GatewayClientError {
  const data = (err as Error & { data?: { code?: unknown; retry_after_ms?: unknown } }).data;
  if (typeof data?.code === 'string') {
    const retryAfter = typeof data.retry_after_ms === 'number' ? data.retry_after_ms : undefined;
    return GatewayClientError.of(data.code as GatewayClientError['code'], err.message, undefined, retryAfter);
  }
  return GatewayClientError.of('SERVICE_UNAVAILABLE', `cannot reach the gateway: ${err.message}`);
}

/** A random id for `client_msg_id` (crypto.randomUUID where available, e.g. not on plain-http LAN pages). */
function newClientMsgId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import type { ClientEventName, ServerEventName, ServerToClientEvents } from '../contract/index.js';
import type { GatewayClientError } from './GatewayClientError.js';

/** Every client → server event (all of them take an ack). */
export type ClientEvent = ClientEventName;
/** Every server → client event. */
export type ServerEvent = ServerEventName;
/** The payload of a client event and its ack's data, from the contract. */
export type { AckDataOf, PayloadOf } from '../contract/index.js';
/** The listener of a server → client event. */
export type ListenerOf<E extends ServerEvent> = ServerToClientEvents[E];
/** The payload of the `connected` greeting. */
export type ConnectedInfo = Parameters<ServerToClientEvents['connected']>[0];

/** Options of {@link GatewayClient}; give `token` or `getToken` (or both). */
export interface GatewayClientOptions {
  /**
   * A fixed token. Without `getToken` the client cannot refresh it, nor reconnect once it has expired.
   * When both are given, `token` is used for the first connection only.
   */
  token?: string;
  /**
   * Returns a valid token. Called before every (re)connection, and when the token is about to
   * expire (then sent with `refresh_token`, so the socket stays connected).
   */
  getToken?: () => Promise<string> | string;
  /** @default ['websocket'] */
  transports?: Array<'websocket' | 'polling'>;
  /** How long a call waits for its ack, and for a connection when there is none. @default 10000 */
  ackTimeoutMs?: number;
  /** Attempts of one `sendMessage`/`sendGroupMessage`, the first included. @default 5 */
  maxSendAttempts?: number;
  /** Delay before the second attempt, doubled for each further one (at most 5 s). @default 250 */
  retryDelayMs?: number;
  /** Refresh the token this long before it expires (at most a quarter of its remaining life). @default 60000 */
  refreshBeforeExpiryMs?: number;
  /** Refresh the token before it expires (needs `getToken`). @default true */
  autoRefresh?: boolean;
  /** First delay between reconnection attempts after a lost connection. @default 500 */
  reconnectDelayMs?: number;
  /** Longest delay between reconnection attempts. @default 5000 */
  reconnectDelayMaxMs?: number;
  /** Told about failures of background work: token refreshes and rejoining rooms after a reconnect. */
  onError?: (error: GatewayClientError) => void;
  /** More socket.io-client options (`path`, `extraHeaders` in Node...). `auth` and `autoConnect` are the client's own. */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

/**
 * Where the connection stands: `connecting` (first time), `connected` (greeted by the server),
 * `reconnecting` (lost, or the server is shutting down; the client is on it), `disconnected`
 * (not connected and not trying: never connected, refused, or disconnected by the server),
 * `closed` (`close()` was called).
 */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** One change of {@link ConnectionState}. */
export interface StateChange {
  state: ConnectionState;
  /** Why: Socket.IO's disconnect reason, `server_shutdown`, `auth_expired`, `server_busy`... */
  reason?: string;
  /** When the client will try again: after `server_shutdown`, or a handshake refused with SERVER_BUSY. */
  reconnect_in_ms?: number;
  /** The refusal: for `disconnected` after a refused reconnection, and with reason `server_busy`. */
  error?: GatewayClientError;
}

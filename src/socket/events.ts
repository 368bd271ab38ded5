/**
 * The contract's Socket.IO events (sections 3 and 4), declared once and used as the generics of
 * the server's `Server`/`Socket` and of the typed client, so every `emit` and `on` is checked.
 */
import type { AckErrorBody, ErrorCode } from '../errors/GatewayError.js';

/** What a client sends with `send_message` (contract section 3). */
export interface SendMessagePayload {
  receiver_id?: string;
  room_id?: string;
  content: string;
  message_type?: string;
  client_msg_id?: string;
  reply_to?: string;
  metadata?: Record<string, unknown>;
}

/** The body of the chat-service's POST /messages (contract section 6). */
export interface NewMessage extends SendMessagePayload {
  sender_id: string;
  message_type: string;
}

/** A message as the chat-service stored it (contract section 4; it may carry more fields). */
export interface ChatMessage extends NewMessage {
  message_id: string;
  created_at: string;
  [extra: string]: unknown;
}

/** What every ack carries: `{ ok: true, ...data }` or `{ ok: false, error }`. */
export type Ack<T extends object> = (response: AckResponse<T>) => void;
export type AckResponse<T extends object> = ({ ok: true } & T) | { ok: false; error: AckErrorBody };

export interface MessageIdPayload {
  message_id: string;
}
export interface ReceiptAck {
  message_id: string;
  status: 'delivered' | 'read';
}

/** Client → server events (contract section 3). */
export interface ClientToServerEvents {
  send_message: (payload: SendMessagePayload, ack?: Ack<{ message: ChatMessage }>) => void;
  send_group_message: (payload: SendMessagePayload & { room_id: string }, ack?: Ack<{ message: ChatMessage }>) => void;
  join_room: (payload: { room_id: string }, ack?: Ack<{ room_id: string }>) => void;
  leave_room: (payload: { room_id: string }, ack?: Ack<{ room_id: string }>) => void;
  typing: (payload: { receiver_id?: string; room_id?: string }, ack?: Ack<Record<string, never>>) => void;
  stop_typing: (payload: { receiver_id?: string; room_id?: string }, ack?: Ack<Record<string, never>>) => void;
  message_delivered: (payload: MessageIdPayload, ack?: Ack<ReceiptAck>) => void;
  message_read: (payload: MessageIdPayload, ack?: Ack<ReceiptAck>) => void;
  message_read_status: (payload: MessageIdPayload, ack?: Ack<ReceiptAck>) => void;
  delete_message: (payload: MessageIdPayload, ack?: Ack<MessageIdPayload>) => void;
  get_online_users: (payload: { user_ids?: string[] }, ack?: Ack<{ users: string[] }>) => void;
  presence_subscribe: (payload: { user_ids: string[] }, ack?: Ack<{ online: string[] }>) => void;
  presence_unsubscribe: (payload: { user_ids: string[] }, ack?: Ack<Record<string, never>>) => void;
  refresh_token: (payload: { token: string }, ack?: Ack<{ expires_at: string | null }>) => void;
}

export type ClientEventName = keyof ClientToServerEvents;

/** The `error` event's payload (contract sections 1 and 2). */
export interface ErrorEventPayload {
  code: ErrorCode | 'AUTH_EXPIRED';
  message: string;
  event?: string;
  client_msg_id?: string;
  retry_after_ms?: number;
}

/** Server → client events (contract section 4). Pushed events (section 5) are untyped extras. */
export interface ServerToClientEvents {
  connected: (p: { socket_id: string; user_id: string; server_time: string }) => void;
  receive_message: (p: { message: ChatMessage }) => void;
  message_sent: (p: { message: ChatMessage; client_msg_id?: string }) => void;
  online_users: (p: { users: string[] }) => void;
  user_connected: (p: { user_id: string; at: string }) => void;
  user_disconnected: (p: { user_id: string; last_seen: string }) => void;
  user_typing: (p: { user_id: string; receiver_id?: string; room_id?: string }) => void;
  user_stop_typing: (p: { user_id: string; receiver_id?: string; room_id?: string }) => void;
  message_status_update: (p: { message_id: string; status: 'delivered' | 'read'; user_id: string; at: string }) => void;
  message_read_receipt: (p: { message_id: string; reader_id: string; read_at: string }) => void;
  message_deleted: (p: { message_id: string; deleted_by: string; receiver_id?: string; room_id?: string }) => void;
  server_shutdown: (p: { reconnect_after_ms: number }) => void;
  error: (p: ErrorEventPayload) => void;
}

/** Between gateway instances (cluster mode). */
export interface InterServerEvents {
  ping: () => void;
  /** POST /api/v1/users/{id}/disconnect: forget the user's verified tokens (AUTH_MODE=remote). */
  forget_user_tokens: (userId: string) => void;
}

/** What the gateway keeps on each socket. */
export interface SocketData {
  userId: string;
  /** Milliseconds since epoch when the token expires, or null when it never does. */
  tokenExpiresAt: number | null;
  lastActivityAt: number;
  /** Refused events counted by the flood guard, since `strikesSince`. */
  strikes: number;
  strikesSince: number;
}

/** Socket.IO room names the gateway uses; one place so no string is typed twice. */
export const rooms = {
  user: (userId: string) => `user:${userId}`,
  chat: (roomId: string) => `room:${roomId}`,
  isChat: (name: string) => name.startsWith('room:'),
  presence: (userId: string) => `presence:${userId}`,
  isPresence: (name: string) => name.startsWith('presence:'),
};

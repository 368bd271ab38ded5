import { z } from 'zod';
import { clientMsgId, id, timestamp, userIdList } from './ids.js';
import { errorCode } from './errorCodes.js';
import { chatMessage } from './messages.js';

/** One server → client event: its payload and, for the documents, whom it goes to. */
export interface ServerEventSpec<P extends z.ZodType = z.ZodType> {
  payload: P;
  summary: string;
  description?: string;
  /** Connection lifecycle events are tagged `session` in the documents. */
  session?: boolean;
}

const typingRelay = z
  .strictObject({ user_id: id, receiver_id: id.optional(), room_id: id.optional() })
  .meta({
    description: 'Who types, and to which user or room (exactly one of `receiver_id` and `room_id`).',
    oneOf: [{ required: ['receiver_id'] }, { required: ['room_id'] }],
  });

/** The `error` event's payload (contract sections 1 and 2). */
const errorEvent = z.strictObject({
  code: errorCode,
  message: z.string(),
  event: z.string().max(64).optional().meta({ description: 'The client event that failed (cut to 64 characters); absent for session errors.' }),
  client_msg_id: z.string().max(64).optional().meta({ description: "The failed payload's `client_msg_id`, when it had one." }),
  retry_after_ms: z.int().min(0).optional().meta({ description: 'With `RATE_LIMITED` from a rate limit.' }),
});

/** Every server → client event of contract section 4 (pushed events, section 5, are untyped extras). */
export const serverEvents = {
  connected: {
    payload: z.strictObject({ socket_id: z.string(), user_id: id, server_time: timestamp }),
    summary: 'Greets a new socket once its handshake is accepted and presence knows it.',
    session: true,
  },
  receive_message: {
    payload: z.strictObject({ message: chatMessage }),
    summary: "A persisted message, to the receiver's sockets (all devices) or the room's members, and the sender's other sockets.",
  },
  message_sent: {
    payload: z.strictObject({ message: chatMessage, client_msg_id: clientMsgId.optional() }),
    summary: 'Confirms a persisted message to the sending socket (also given in the ack).',
  },
  online_users: {
    payload: z.strictObject({ users: userIdList }),
    summary: 'The online users (at most 1000), to a new socket, only when PRESENCE_BROADCAST=global.',
    session: true,
  },
  user_connected: {
    payload: z.strictObject({ user_id: id, at: timestamp }),
    summary: "A user's first socket came online cluster-wide.",
    description:
      "To the user's presence subscribers and the members of rooms it joined (everyone when `PRESENCE_BROADCAST=global`), never to the user's own sockets. Exactly once per transition, cluster-wide.",
  },
  user_disconnected: {
    payload: z.strictObject({ user_id: id, last_seen: timestamp }),
    summary: "A user's last socket is gone cluster-wide (same audience as user_connected).",
    description: 'Also sent, within `PRESENCE_STALE_MS`, for the users of an instance that died without a goodbye (cluster mode).',
  },
  user_typing: {
    payload: typingRelay,
    summary: "A user is typing; to the receiver's sockets or the room, never the typist's.",
    description: 'Volatile (never queued for a socket that cannot take it now).',
  },
  user_stop_typing: {
    payload: typingRelay,
    summary: 'A user stopped typing (also sent by itself TYPING_TIMEOUT_MS after the last typing).',
    description: 'Volatile, same audience as `user_typing`.',
  },
  message_status_update: {
    payload: z.strictObject({
      message_id: id,
      status: z.enum(['delivered', 'read']),
      user_id: id.meta({ description: 'The user whose device got or read the message.' }),
      at: timestamp,
    }),
    summary: 'A message was delivered or read; to every socket of its sender (as the chat-service names it).',
  },
  message_read_receipt: {
    payload: z.strictObject({ message_id: id, reader_id: id, read_at: timestamp }),
    summary: 'A message was read; to every socket of its sender (as the chat-service names it).',
  },
  message_deleted: {
    payload: z.strictObject({ message_id: id, deleted_by: id, receiver_id: id.optional(), room_id: id.optional() }),
    summary: "A message was deleted; to the conversation's participants except the deleting socket.",
  },
  server_shutdown: {
    payload: z.strictObject({ reconnect_after_ms: z.int().min(0).meta({ description: '`RECONNECT_AFTER_MS` (default 1000).' }) }),
    summary: 'The instance drains; to every socket. Reconnect (to another instance) after the given delay.',
    session: true,
  },
  room_removed: {
    payload: z.strictObject({ room_id: id }),
    summary: "The backend removed the user from the room (contract section 5, POST /api/v1/rooms/{room_id}/remove); to each of the user's sockets that was in it.",
    description: "No more of the room's messages, typing or presence reach those sockets; joining again asks the chat-service.",
  },
  error: {
    payload: errorEvent,
    summary: 'A failure for the socket concerned.',
    description:
      'Sent for a failed client event that had no ack callback (with `event` and, when the payload had one, `client_msg_id`); for token expiry (`AUTH_EXPIRED`, then disconnect); for a flood of refused events (`RATE_LIMITED`, then disconnect); and when a backend disconnects the user (`POST /api/v1/users/{user_id}/disconnect`: `FORBIDDEN` with the given reason, then disconnect).',
    session: true,
  },
} satisfies Record<string, ServerEventSpec>;

/** The shape of a set of server events (the contract's, or a copy with more). */
export type ServerEventMap = Record<string, ServerEventSpec>;

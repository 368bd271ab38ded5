import { z } from 'zod';
import type { ErrorCode } from './errorCodes.js';
import type { RateLimitFamily } from './families.js';
import { id, timestamp, userIdList } from './ids.js';
import { DEFAULT_MESSAGE_RULES, messageAck, sendGroupMessagePayload, sendMessagePayload, type MessageRules } from './messages.js';
import { target } from './target.js';

/** One client → server event: what it carries, what its ack carries, and how it may fail. */
export interface ClientEventSpec<P extends z.ZodType = z.ZodType, A extends z.ZodType = z.ZodType> {
  /** Its rate-limit family. */
  family: RateLimitFamily;
  /** The payload, as the server validates it. */
  payload: P;
  /** The ack's data on success (without `ok`). */
  ack: A;
  /** Every code its failure may carry (the dispatcher's own checks included). */
  errors: readonly ErrorCode[];
  /** One line for the documents. */
  summary: string;
  /** What it does, when the summary is not enough. */
  description?: string;
}

/**
 * What any event may answer: a bad payload, an identity claimed in the payload, a rate limit, an
 * oversize frame, a draining instance, a bug.
 */
const EVERY_EVENT: readonly ErrorCode[] = ['VALIDATION_FAILED', 'FORBIDDEN', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE', 'SERVICE_UNAVAILABLE', 'INTERNAL'];
/** What a call to the chat-service adds (its 404 and its timeouts). */
const CHAT_SERVICE_CALL: readonly ErrorCode[] = ['NOT_FOUND', 'TIMEOUT'];

/** Declares a client event; `errors` lists what it adds to the codes every event may answer. */
export function clientEvent<P extends z.ZodType, A extends z.ZodType>(spec: Omit<ClientEventSpec<P, A>, 'errors'> & { errors?: readonly ErrorCode[] }): ClientEventSpec<P, A> {
  return { ...spec, errors: [...EVERY_EVENT, ...(spec.errors ?? [])] };
}

const roomRef = z.object({ room_id: id });
const messageRef = z.object({ message_id: id });
const roomAck = z.strictObject({ room_id: id });
const emptyAck = z.strictObject({});
const receiptAck = <S extends 'delivered' | 'read'>(status: S) => z.strictObject({ message_id: id, status: z.literal(status) });

/**
 * Every client event of contract section 3, with the payload rules of the configuration.
 * The server builds it once from its config; {@link clientEvents} is the one with the defaults.
 */
export function clientEventsFor(rules: MessageRules) {
  return {
    send_message: clientEvent({
      family: 'messages',
      payload: sendMessagePayload(rules),
      ack: messageAck,
      errors: CHAT_SERVICE_CALL,
      summary: 'A client sends a direct or room message.',
      description:
        'Exactly one of `receiver_id` and `room_id`. Room messages require membership (asked of the chat-service, cached `MEMBERSHIP_CACHE_TTL_MS`; `FORBIDDEN` otherwise). The message is persisted by the chat-service (`POST /messages`, with `Idempotency-Key: {sender_id}:{client_msg_id}` when `client_msg_id` is given) **before** it is relayed or acknowledged; when it cannot be stored the sender gets `SERVICE_UNAVAILABLE` / `TIMEOUT` and nobody sees it. Then `receive_message` goes to the receiver\'s sockets (or the room) and the sender\'s other sockets, `message_sent` to the sending socket, and the ack carries `{ message }`.',
    }),
    send_group_message: clientEvent({
      family: 'messages',
      payload: sendGroupMessagePayload(rules),
      ack: messageAck,
      errors: CHAT_SERVICE_CALL,
      summary: 'A client sends a room message.',
      description: 'As `send_message` with `room_id` required; a `receiver_id` fails with `VALIDATION_FAILED`.',
    }),
    join_room: clientEvent({
      family: 'rooms',
      payload: roomRef,
      ack: roomAck,
      errors: CHAT_SERVICE_CALL,
      summary: 'A client joins a chat room it is a member of.',
      description:
        'Membership is asked of the chat-service (`GET /rooms/{room_id}/members/{user_id}`, cached); a non-member gets `FORBIDDEN`. The socket then receives the room\'s messages, typing and deletions, and the presence changes of its members.',
    }),
    leave_room: clientEvent({
      family: 'rooms',
      payload: roomRef,
      ack: roomAck,
      summary: 'A client leaves a chat room.',
      description: 'Leaving stops the user\'s typing in that room (`user_stop_typing` to the room).',
    }),
    typing: clientEvent({
      family: 'typing',
      payload: target,
      ack: emptyAck,
      errors: CHAT_SERVICE_CALL,
      summary: 'A client starts (or keeps) typing to a user or in a room.',
      description:
        'Exactly one of `receiver_id` and `room_id`; room typing requires membership. Relayed as `user_typing`, throttled per user and target (`TYPING_THROTTLE_MS`; throttled events are acked and still extend the automatic stop). `user_stop_typing` follows by itself `TYPING_TIMEOUT_MS` after the last `typing`.',
    }),
    stop_typing: clientEvent({
      family: 'typing',
      payload: target,
      ack: emptyAck,
      summary: 'A client stops typing.',
      description: 'Relayed as `user_stop_typing` when the user was typing to that target.',
    }),
    message_delivered: clientEvent({
      family: 'receipts',
      payload: messageRef,
      ack: receiptAck('delivered'),
      errors: CHAT_SERVICE_CALL,
      summary: "A recipient's device got a message.",
      description:
        'Recorded at the chat-service (`POST /messages/{message_id}/receipts`; 404 → `NOT_FOUND`, 403 → `FORBIDDEN`), then `message_status_update` (`delivered`) goes to every socket of the sender the chat-service names.',
    }),
    message_read: clientEvent({
      family: 'receipts',
      payload: messageRef,
      ack: receiptAck('read'),
      errors: CHAT_SERVICE_CALL,
      summary: 'A recipient read a message.',
      description:
        'Recorded at the chat-service, then `message_status_update` (`read`) and `message_read_receipt` go to every socket of the sender the chat-service names.',
    }),
    message_read_status: clientEvent({
      family: 'receipts',
      payload: messageRef,
      ack: receiptAck('read'),
      errors: CHAT_SERVICE_CALL,
      summary: 'Same as message_read (kept for older clients).',
    }),
    delete_message: clientEvent({
      family: 'messages',
      payload: messageRef,
      ack: z.strictObject({ message_id: id }),
      errors: CHAT_SERVICE_CALL,
      summary: 'A client deletes a message.',
      description:
        'The chat-service decides who may delete (`DELETE /messages/{message_id}`; 403 → `FORBIDDEN`, 404 → `NOT_FOUND`) and names the conversation; `message_deleted` goes to its participants (the room, or both users), except the deleting socket.',
    }),
    get_online_users: clientEvent({
      family: 'presence',
      payload: z.object({ user_ids: userIdList.optional() }),
      ack: z.strictObject({ users: userIdList }),
      summary: 'A client asks which users are online.',
      description: 'With `user_ids`, the online subset of them; without, all online users (at most 1000). The payload may be left out.',
    }),
    presence_subscribe: clientEvent({
      family: 'presence',
      payload: z.object({ user_ids: userIdList }),
      ack: z.strictObject({ online: userIdList }),
      summary: 'A client subscribes to the presence of users.',
      description:
        'The socket then gets their `user_connected` / `user_disconnected`. One socket holds at most 1000 subscriptions in all; more fails with `VALIDATION_FAILED`. The ack names which of them are online now.',
    }),
    presence_unsubscribe: clientEvent({
      family: 'presence',
      payload: z.object({ user_ids: userIdList }),
      ack: emptyAck,
      summary: 'A client ends presence subscriptions.',
    }),
    refresh_token: clientEvent({
      family: 'auth',
      payload: z.object({ token: z.string().min(1).max(8192).meta({ description: 'A newer valid JWT for the same user.' }) }),
      ack: z.strictObject({
        expires_at: timestamp.nullable().meta({ description: 'When the new token expires; null when it never does.' }),
      }),
      errors: ['AUTH_EXPIRED'],
      summary: 'A client hands a newer token before the current one expires.',
      description:
        "The token must be valid and for the same user; the socket's expiry moves to the new token's. An expired token fails with `AUTH_EXPIRED`, an invalid one or one for another user with `FORBIDDEN`, an auth-service that cannot answer (`AUTH_MODE=remote`) with `SERVICE_UNAVAILABLE`.",
    }),
  };
}

/** The client events with the default configuration: for types, documents and tests. */
export const clientEvents = clientEventsFor(DEFAULT_MESSAGE_RULES);

/** The shape of a set of client events (the contract's, or a copy with more). */
export type ClientEventMap = Record<string, ClientEventSpec>;

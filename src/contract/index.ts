/**
 * The wire contract (`shared/PROTOCOL.md` sections 2 to 4), declared once: each client event's
 * payload, ack, rate-limit family and error codes, and each server event's payload. The server's
 * validation, the Socket.IO generics, the handlers' ack types, the typed client and
 * `docs/asyncapi.yaml` all follow from it. A leaf: it imports only zod.
 */
export { ERROR_CODES, ackError, errorCode, type AckErrorBody, type ErrorCode } from './errorCodes.js';
export { RATE_LIMIT_FAMILIES, type RateLimitFamily } from './families.js';
export { clientMsgId, id, isDotSegment, isWellFormed, timestamp, userIdList } from './ids.js';
export { DEFAULT_MESSAGE_RULES, chatMessage, type ChatMessage, type MessageRules } from './messages.js';
export { rooms } from './rooms.js';
export { clientEvent, clientEvents, clientEventsFor, type ClientEventMap, type ClientEventSpec } from './clientEvents.js';
export { serverEvents, type ServerEventMap, type ServerEventSpec } from './serverEvents.js';
export type * from './types.js';

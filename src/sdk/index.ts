/**
 * The typed client of the chat gateway, for browsers (bundled, e.g. by esbuild) and Node: the
 * package `@chat-gateway/client` (packages/client compiles this file's graph). See docs/client.md.
 */
import type { PayloadOf } from '../contract/index.js';

export { GatewayClient } from './GatewayClient.js';
export { GatewayClientError, isGatewayClientError, type GatewayClientErrorBody, type GatewayClientErrorCode } from './GatewayClientError.js';
export { tokenExpiresAt } from './token.js';
export type * from './types.js';
export type { ChatMessage, ErrorEventPayload, ServerToClientEvents, ClientToServerEvents } from '../contract/index.js';

/** What `sendMessage` takes. */
export type SendMessagePayload = PayloadOf<'send_message'>;

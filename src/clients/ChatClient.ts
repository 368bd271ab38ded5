import type { ChatMessage, ParsedPayloadOf } from '../contract/index.js';
import { errors } from '../errors/GatewayError.js';
import type { BatchEndpointsMode } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { BackendClient } from './BackendClient.js';
import { BatchEndpointSupport } from './BatchEndpointSupport.js';
import { Batcher } from './Batcher.js';
import { batchSender, type Queued } from './chatBatches.js';
import { pathOf, type ServiceClient } from './ServiceClient.js';

/**
 * `{sender_id}:{client_msg_id}` (and the like) with each part percent-encoded: a header cannot
 * hold every character, HTTP clients strip the rest (so two ids could share one key), and an
 * id containing ":" could otherwise collide with another split. Plain ids stay as they are.
 */
export function idempotencyKey(...parts: string[]): string {
  return parts.map(encodeURIComponent).join(':');
}

/** The body of the chat-service's POST /messages (contract section 6): a validated message and its sender. */
export type NewMessage = ParsedPayloadOf<'send_message'> & { sender_id: string };

/** `send_message`'s key, when the client gave a `client_msg_id`. */
function messageKey(msg: NewMessage): string | undefined {
  return msg.client_msg_id ? idempotencyKey(msg.sender_id, msg.client_msg_id) : undefined;
}

/** What the chat-service answers to a receipt. */
export interface ReceiptResult {
  message_id: string;
  sender_id: string;
  status: 'delivered' | 'read';
  at?: string;
}

/** What the chat-service answers to a deletion: the conversation's participants. */
export interface DeletedMessage {
  message_id: string;
  sender_id: string;
  receiver_id?: string;
  room_id?: string;
}

/** Batching of writes (CHAT_BATCH_ENDPOINTS other than `false`). */
export interface ChatBatching {
  mode: Exclude<BatchEndpointsMode, 'false'>;
  windowMs: number;
  max: number;
  logger: Logger;
}

type ReceiptItem = { messageId: string; userId: string; status: 'delivered' | 'read' };

/** The chat-service calls of contract section 6. */
export class ChatClient extends BackendClient {
  private readonly messages?: Batcher<Queued<NewMessage>, ChatMessage>;
  private readonly receipts?: Batcher<Queued<ReceiptItem>, ReceiptResult>;

  constructor(service: ServiceClient, batching?: ChatBatching) {
    super(service);
    if (!batching) return;
    const endpoint = (path: string) =>
      new BatchEndpointSupport({ mode: batching.mode, service: 'chat', path, variable: 'CHAT_BATCH_ENDPOINTS', logger: batching.logger });
    const { windowMs, max } = batching;
    this.messages = new Batcher({ service: 'chat', windowMs, max, send: this.messageBatches(endpoint('/messages/batch')) });
    this.receipts = new Batcher({ service: 'chat', windowMs, max, send: this.receiptBatches(endpoint('/receipts/batch')) });
  }

  /** Stores a message; the idempotency key makes retries (ours and the client's) safe. */
  createMessage(msg: NewMessage, requestId: string): Promise<ChatMessage> {
    return this.messages ? this.messages.add({ item: msg, requestId }) : this.storeOne(msg, requestId);
  }

  /** Records a delivered/read receipt; keyed so a retry cannot double-count. */
  addReceipt(messageId: string, userId: string, status: 'delivered' | 'read', requestId: string): Promise<ReceiptResult> {
    const item = { messageId, userId, status };
    return this.receipts ? this.receipts.add({ item, requestId }) : this.receiptOne(item, requestId);
  }

  private async storeOne(msg: NewMessage, requestId: string): Promise<ChatMessage> {
    const body = await this.service.request<{ message?: ChatMessage } & Partial<ChatMessage>>({
      method: 'POST',
      path: '/messages',
      operation: 'create_message',
      body: msg,
      requestId,
      userId: msg.sender_id,
      idempotencyKey: messageKey(msg),
    });
    // The contract allows `{ message }` or the message at top level.
    const stored = body?.message ?? (body as ChatMessage);
    if (!stored?.message_id) throw errors.unavailable('chat service returned no message');
    return { ...msg, ...stored };
  }

  private receiptOne({ messageId, userId, status }: ReceiptItem, requestId: string): Promise<ReceiptResult> {
    return this.service.request({
      method: 'POST',
      path: pathOf('messages', messageId, 'receipts'),
      operation: `receipt_${status}`,
      body: { user_id: userId, status },
      requestId,
      userId,
      idempotencyKey: idempotencyKey(userId, messageId, status),
    });
  }

  private messageBatches(endpoint: BatchEndpointSupport) {
    return batchSender<NewMessage, ChatMessage>({
      service: this.service,
      endpoint,
      field: 'messages',
      operation: 'create_message_batch',
      keyOf: messageKey,
      toBody: (msg, key) => (key ? { ...msg, idempotency_key: key } : msg),
      parse: (msg, entry) => {
        const stored = (entry as { message?: ChatMessage } | undefined)?.message;
        return stored?.message_id ? { ...msg, ...stored } : undefined;
      },
      single: (msg, requestId) => this.storeOne(msg, requestId),
    });
  }

  private receiptBatches(endpoint: BatchEndpointSupport) {
    return batchSender<ReceiptItem, ReceiptResult>({
      service: this.service,
      endpoint,
      field: 'receipts',
      operation: 'receipt_batch',
      keyOf: (r) => idempotencyKey(r.userId, r.messageId, r.status),
      toBody: (r) => ({ message_id: r.messageId, user_id: r.userId, status: r.status }),
      parse: (_r, entry) => ((entry as ReceiptResult | undefined)?.sender_id ? (entry as ReceiptResult) : undefined),
      single: (r, requestId) => this.receiptOne(r, requestId),
    });
  }

  /** Deletes a message as `userId`. */
  deleteMessage(messageId: string, userId: string, requestId: string): Promise<DeletedMessage> {
    return this.service.request({
      method: 'DELETE',
      path: pathOf('messages', messageId),
      operation: 'delete_message',
      requestId,
      userId,
    });
  }

  /** True when the user is a member of the room; 403/404 mean "not a member". */
  async isMember(roomId: string, userId: string, requestId: string): Promise<boolean> {
    try {
      await this.service.request({
        method: 'GET',
        path: pathOf('rooms', roomId, 'members', userId),
        operation: 'room_membership',
        requestId,
        userId,
      });
      return true;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'NOT_FOUND' || code === 'FORBIDDEN') return false;
      throw e;
    }
  }
}

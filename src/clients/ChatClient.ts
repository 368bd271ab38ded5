import type { z } from 'zod';
import type { ChatMessage, NewMessage } from '../socket/events.js';
import type { BatchEndpointsMode } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { createdMessageAnswer, deletedMessageAnswer, receiptAnswer, storedOf, wrappedMessage } from './answers.js';
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

/** `send_message`'s key, when the client gave a `client_msg_id`. */
function messageKey(msg: NewMessage): string | undefined {
  return msg.client_msg_id ? idempotencyKey(msg.sender_id, msg.client_msg_id) : undefined;
}

/** What the gateway reads of the chat-service's answer to a receipt: whom to tell, and when. */
export type ReceiptResult = z.output<typeof receiptAnswer>;

/** What the gateway reads of the chat-service's answer to a deletion: the conversation's participants. */
export type DeletedMessage = z.output<typeof deletedMessageAnswer>;

/** Batching of writes (CHAT_BATCH_ENDPOINTS other than `false`). */
export interface ChatBatching {
  mode: Exclude<BatchEndpointsMode, 'false'>;
  windowMs: number;
  max: number;
  logger: Logger;
}

type ReceiptItem = { messageId: string; userId: string; status: 'delivered' | 'read' };

/** 403 is the chat-service refusing the user (not a participant, not a member, not theirs to delete). */
const USER_REFUSALS = [403] as const;

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
    const answer = await this.service.request({
      method: 'POST',
      path: '/messages',
      operation: 'create_message',
      body: msg,
      requestId,
      userId: msg.sender_id,
      idempotencyKey: messageKey(msg),
      userRefusals: USER_REFUSALS,
      answer: createdMessageAnswer,
    });
    return { ...msg, ...storedOf(answer) } as ChatMessage;
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
      userRefusals: USER_REFUSALS,
      answer: receiptAnswer,
    });
  }

  private messageBatches(endpoint: BatchEndpointSupport) {
    return batchSender<NewMessage, ChatMessage, typeof wrappedMessage>({
      service: this.service,
      endpoint,
      field: 'messages',
      operation: 'create_message_batch',
      keyOf: messageKey,
      toBody: (msg, key) => (key ? { ...msg, idempotency_key: key } : msg),
      entry: wrappedMessage,
      userRefusals: USER_REFUSALS,
      toResult: (msg, entry) => ({ ...msg, ...entry.message }) as ChatMessage,
      single: (msg, requestId) => this.storeOne(msg, requestId),
    });
  }

  private receiptBatches(endpoint: BatchEndpointSupport) {
    return batchSender<ReceiptItem, ReceiptResult, typeof receiptAnswer>({
      service: this.service,
      endpoint,
      field: 'receipts',
      operation: 'receipt_batch',
      keyOf: (r) => idempotencyKey(r.userId, r.messageId, r.status),
      toBody: (r) => ({ message_id: r.messageId, user_id: r.userId, status: r.status }),
      entry: receiptAnswer,
      userRefusals: USER_REFUSALS,
      toResult: (_r, entry) => entry,
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
      userRefusals: USER_REFUSALS,
      answer: deletedMessageAnswer,
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
        // Only the status is read: 2xx member, 403/404 not.
        userRefusals: USER_REFUSALS,
      });
      return true;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'NOT_FOUND' || code === 'FORBIDDEN') return false;
      throw e;
    }
  }
}

import type { RecordedRequest } from '../../src/reference/serviceKit.js';

/** Matches the requests that store messages, single (`POST /messages`) or batched (`POST /messages/batch`). */
export const MESSAGE_WRITES = { method: 'POST', path: /^\/messages(\/batch)?$/ };

/** Matches the requests that record receipts, single or batched. */
export const RECEIPT_WRITES = { method: 'POST', path: /^\/(messages\/[^/]+\/receipts|receipts\/batch)$/ };

/** One message the gateway asked the chat-service to store, however it was sent. */
export interface MessageWrite {
  /** The message as sent (a batch item without its `idempotency_key`). */
  body: Record<string, unknown>;
  /** The header of a single call, the item's `idempotency_key` in a batch. */
  idempotencyKey?: string;
  /** The request that carried it. */
  request: RecordedRequest;
}

/** One receipt the gateway asked the chat-service to record, however it was sent. */
export interface ReceiptWrite {
  body: { message_id: string; user_id: string; status: string };
  request: RecordedRequest;
}

/** Every message write the chat-service received (each attempt, each batch item), in order. */
export function messageWrites(chat: { requests: RecordedRequest[] }): MessageWrite[] {
  return chat.requests.flatMap((request): MessageWrite[] => {
    if (request.method !== 'POST') return [];
    if (request.path === '/messages') {
      const key = request.headers['idempotency-key'];
      return [{ body: request.body as Record<string, unknown>, idempotencyKey: typeof key === 'string' ? key : undefined, request }];
    }
    if (request.path !== '/messages/batch') return [];
    const items = (request.body as { messages: Array<Record<string, unknown>> }).messages;
    return items.map(({ idempotency_key, ...body }) => ({ body, idempotencyKey: idempotency_key as string | undefined, request }));
  });
}

/** Every receipt write the chat-service received (each attempt, each batch item), in order. */
export function receiptWrites(chat: { requests: RecordedRequest[] }): ReceiptWrite[] {
  return chat.requests.flatMap((request): ReceiptWrite[] => {
    if (request.method !== 'POST') return [];
    if (request.path === '/receipts/batch') {
      return (request.body as { receipts: ReceiptWrite['body'][] }).receipts.map((body) => ({ body, request }));
    }
    const single = /^\/messages\/([^/]+)\/receipts$/.exec(request.path);
    if (!single) return [];
    const { user_id, status } = request.body as { user_id: string; status: string };
    return [{ body: { message_id: decodeURIComponent(single[1]), user_id, status }, request }];
  });
}

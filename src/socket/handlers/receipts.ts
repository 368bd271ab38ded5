import type { ChatClient } from '../../clients/ChatClient.js';
import { rooms } from '../../contract/index.js';
import type { GatewayServer } from '../../io/GatewayServer.js';
import type { EventContext, HandlersOf } from '../types.js';

export interface ReceiptDeps {
  io: GatewayServer;
  chat: ChatClient;
}

export function receiptHandlers({ io, chat }: ReceiptDeps): HandlersOf<'message_delivered' | 'message_read' | 'message_read_status'> {
  /**
   * Records a receipt at the chat-service and tells the sender it names (never one a client
   * names) on all their devices.
   */
  async function receipt<S extends 'delivered' | 'read'>(ctx: EventContext, messageId: string, status: S) {
    const result = await chat.addReceipt(messageId, ctx.userId, status, ctx.requestId);
    const at = result.at ?? new Date().toISOString();
    const sender = io.to(rooms.user(result.sender_id));
    sender.emit('message_status_update', { message_id: messageId, status, user_id: ctx.userId, at });
    if (status === 'read') sender.emit('message_read_receipt', { message_id: messageId, reader_id: ctx.userId, read_at: at });
    return { message_id: messageId, status };
  }
  return {
    message_delivered: (ctx, p) => receipt(ctx, p.message_id, 'delivered'),
    message_read: (ctx, p) => receipt(ctx, p.message_id, 'read'),
    message_read_status: (ctx, p) => receipt(ctx, p.message_id, 'read'),
  };
}

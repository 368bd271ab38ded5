import { rooms } from '../events.js';
import { messageRef } from '../schemas.js';
import { defineHandler, type EventContext } from '../types.js';

/**
 * Records a receipt at the chat-service and tells the sender it names (never one a client
 * names) on all their devices.
 */
async function receipt(ctx: EventContext, messageId: string, status: 'delivered' | 'read') {
  const { chat, io } = ctx.services;
  const result = await chat.addReceipt(messageId, ctx.userId, status, ctx.requestId);
  const at = result.at ?? new Date().toISOString();
  const sender = io.to(rooms.user(result.sender_id));
  sender.emit('message_status_update', { message_id: messageId, status, user_id: ctx.userId, at });
  if (status === 'read') sender.emit('message_read_receipt', { message_id: messageId, reader_id: ctx.userId, read_at: at });
  return { message_id: messageId, status };
}

export const receiptHandlers = [
  defineHandler({
    event: 'message_delivered',
    family: 'receipts',
    schema: messageRef,
    handle: (ctx, p) => receipt(ctx, p.message_id, 'delivered'),
  }),
  ...(['message_read', 'message_read_status'] as const).map((event) =>
    defineHandler({ event, family: 'receipts', schema: messageRef, handle: (ctx, p) => receipt(ctx, p.message_id, 'read') }),
  ),
];

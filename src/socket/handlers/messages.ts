import { z } from 'zod';
import { errors } from '../../errors/GatewayError.js';
import { rooms } from '../events.js';
import { id, isWellFormed, messageRef } from '../schemas.js';
import { defineHandler, type EventContext } from '../types.js';

/** `send_message` / `send_group_message` payload, checked against the configured limits. */
function messageSchema(maxLength: number, messageTypes: string[], requireRoom: boolean) {
  return z
    .object({
      receiver_id: id.optional(),
      room_id: requireRoom ? id : id.optional(),
      content: z.string().refine((c) => withinLength(c.trim(), maxLength), `must be 1 to ${maxLength} characters`),
      message_type: z.enum(messageTypes as [string, ...string[]]).default('text'),
      client_msg_id: z.string().min(1).max(64).refine(isWellFormed, 'must be well-formed Unicode').optional(),
      reply_to: id.optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
    })
    .refine((m) => (m.receiver_id === undefined) !== (m.room_id === undefined), 'give exactly one of receiver_id and room_id');
}

type MessagePayload = z.output<ReturnType<typeof messageSchema>>;

/** Length in characters (code points), cheap for the common short message. */
function withinLength(text: string, max: number): boolean {
  if (text.length === 0) return false;
  if (text.length <= max) return true;
  let count = 0;
  for (const _ of text) if (++count > max) return false;
  return true;
}

/**
 * Persist, then relay, then ack: a message nobody could store reaches nobody. Relayed to the
 * receiver's devices (or the room) and to the sender's other devices.
 */
async function sendMessage(ctx: EventContext, p: MessagePayload) {
  const { chat, membership, io, sinks } = ctx.services;
  if (p.room_id !== undefined) await membership.require(p.room_id, ctx.userId, ctx.requestId);
  const message = await chat.createMessage({ ...p, sender_id: ctx.userId }, ctx.requestId);
  const audience = p.room_id !== undefined ? rooms.chat(p.room_id) : rooms.user(p.receiver_id!);
  io.to([audience, rooms.user(ctx.userId)]).except(ctx.socket.id).emit('receive_message', { message });
  ctx.socket.emit('message_sent', p.client_msg_id ? { message, client_msg_id: p.client_msg_id } : { message });
  sinks.publish('message_persisted', { message_id: message.message_id, sender_id: ctx.userId, room_id: p.room_id, receiver_id: p.receiver_id });
  return { message };
}

/** Builds the two message events for the configured limits. */
export function messageHandlers(limits: { maxMessageLength: number; messageTypes: string[] }) {
  return [
    defineHandler({
      event: 'send_message',
      family: 'messages',
      schema: messageSchema(limits.maxMessageLength, limits.messageTypes, false),
      handle: sendMessage,
    }),
    defineHandler({
      event: 'send_group_message',
      family: 'messages',
      schema: messageSchema(limits.maxMessageLength, limits.messageTypes, true),
      handle: (ctx, p) => {
        if (p.receiver_id !== undefined) throw errors.validation('send_group_message takes room_id only');
        return sendMessage(ctx, p);
      },
    }),
    defineHandler({
      event: 'delete_message',
      family: 'messages',
      schema: messageRef,
      /** The chat-service decides who may delete and names the conversation's participants. */
      async handle(ctx, { message_id }) {
        const deleted = await ctx.services.chat.deleteMessage(message_id, ctx.userId, ctx.requestId);
        const conversation = deleted.room_id !== undefined ? rooms.chat(deleted.room_id) : rooms.user(deleted.receiver_id ?? deleted.sender_id);
        ctx.services.io
          .to([conversation, rooms.user(deleted.sender_id), rooms.user(ctx.userId)])
          .except(ctx.socket.id)
          .emit('message_deleted', {
            message_id,
            deleted_by: ctx.userId,
            ...(deleted.receiver_id !== undefined ? { receiver_id: deleted.receiver_id } : {}),
            ...(deleted.room_id !== undefined ? { room_id: deleted.room_id } : {}),
          });
        return { message_id };
      },
    }),
  ];
}

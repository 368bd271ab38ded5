import type { ChatClient } from '../../clients/ChatClient.js';
import type { SinkPublisher } from '../../clients/SinkPublisher.js';
import { rooms, type ParsedPayloadOf } from '../../contract/index.js';
import type { MembershipCache } from '../../rooms/MembershipCache.js';
import type { GatewayServer } from '../../io/GatewayServer.js';
import type { EventContext, HandlersOf } from '../types.js';

export interface MessageDeps {
  io: GatewayServer;
  chat: ChatClient;
  membership: MembershipCache;
  sinks: SinkPublisher;
}

type MessagePayload = ParsedPayloadOf<'send_message'> | ParsedPayloadOf<'send_group_message'>;

export function messageHandlers({ io, chat, membership, sinks }: MessageDeps): HandlersOf<'send_message' | 'send_group_message' | 'delete_message'> {
  /**
   * Persist, then relay, then ack: a message nobody could store reaches nobody. Relayed to the
   * receiver's devices (or the room) and to the sender's other devices.
   */
  async function sendMessage(ctx: EventContext, p: MessagePayload) {
    if (p.room_id !== undefined) await membership.require(p.room_id, ctx.userId, ctx.requestId);
    const message = await chat.createMessage({ ...p, sender_id: ctx.userId }, ctx.requestId);
    const audience = p.room_id !== undefined ? rooms.chat(p.room_id) : rooms.user(p.receiver_id);
    io.to([audience, rooms.user(ctx.userId)]).except(ctx.socket.id).emit('receive_message', { message });
    ctx.socket.emit('message_sent', p.client_msg_id ? { message, client_msg_id: p.client_msg_id } : { message });
    sinks.publish('message_persisted', { message_id: message.message_id, sender_id: ctx.userId, room_id: p.room_id, receiver_id: p.receiver_id });
    return { message };
  }

  return {
    send_message: sendMessage,
    send_group_message: sendMessage,
    /** The chat-service decides who may delete and names the conversation's participants. */
    async delete_message(ctx, { message_id }) {
      const deleted = await chat.deleteMessage(message_id, ctx.userId, ctx.requestId);
      const conversation = deleted.room_id !== undefined ? rooms.chat(deleted.room_id) : rooms.user(deleted.receiver_id ?? deleted.sender_id);
      io.to([conversation, rooms.user(deleted.sender_id), rooms.user(ctx.userId)])
        .except(ctx.socket.id)
        .emit('message_deleted', {
          message_id,
          deleted_by: ctx.userId,
          ...(deleted.receiver_id !== undefined ? { receiver_id: deleted.receiver_id } : {}),
          ...(deleted.room_id !== undefined ? { room_id: deleted.room_id } : {}),
        });
      return { message_id };
    },
  };
}

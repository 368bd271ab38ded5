import { z } from 'zod';
import { rooms } from '../events.js';
import { id } from '../schemas.js';
import { relayTyping } from './typing.js';
import { defineHandler } from '../types.js';

const roomRef = z.object({ room_id: id });

export const roomHandlers = [
  defineHandler({
    event: 'join_room',
    family: 'rooms',
    schema: roomRef,
    async handle(ctx, { room_id }) {
      await ctx.services.membership.require(room_id, ctx.userId, ctx.requestId);
      await ctx.socket.join(rooms.chat(room_id));
      ctx.services.sinks.publish('room_joined', { room_id, user_id: ctx.userId });
      return { room_id };
    },
  }),
  defineHandler({
    event: 'leave_room',
    family: 'rooms',
    schema: roomRef,
    async handle(ctx, { room_id }) {
      await ctx.socket.leave(rooms.chat(room_id));
      if (ctx.services.typing.stop(ctx.userId, { room_id })) relayTyping(ctx.services, 'user_stop_typing', ctx.userId, { room_id });
      ctx.services.sinks.publish('room_left', { room_id, user_id: ctx.userId });
      return { room_id };
    },
  }),
];

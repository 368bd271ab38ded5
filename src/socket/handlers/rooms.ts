import type { SinkPublisher } from '../../clients/SinkPublisher.js';
import { rooms } from '../../contract/index.js';
import type { MembershipCache } from '../../rooms/MembershipCache.js';
import type { TypingTracker } from '../../typing/TypingTracker.js';
import type { GatewayServer } from '../../io/GatewayServer.js';
import type { HandlersOf } from '../types.js';
import { relayTyping } from './typing.js';

export interface RoomDeps {
  io: GatewayServer;
  membership: MembershipCache;
  typing: TypingTracker;
  sinks: SinkPublisher;
}

export function roomHandlers({ io, membership, typing, sinks }: RoomDeps): HandlersOf<'join_room' | 'leave_room'> {
  return {
    async join_room(ctx, { room_id }) {
      await membership.require(room_id, ctx.userId, ctx.requestId);
      await ctx.socket.join(rooms.chat(room_id));
      sinks.publish('room_joined', { room_id, user_id: ctx.userId });
      return { room_id };
    },
    async leave_room(ctx, { room_id }) {
      await ctx.socket.leave(rooms.chat(room_id));
      if (typing.stop(ctx.userId, { room_id })) relayTyping(io, 'user_stop_typing', ctx.userId, { room_id });
      sinks.publish('room_left', { room_id, user_id: ctx.userId });
      return { room_id };
    },
  };
}

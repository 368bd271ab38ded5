import { rooms } from '../../contract/index.js';
import type { MembershipCache } from '../../rooms/MembershipCache.js';
import type { TypingTarget, TypingTracker } from '../../typing/TypingTracker.js';
import type { GatewayServer } from '../../io/GatewayServer.js';
import type { HandlersOf } from '../types.js';

type TypingEvent = 'user_typing' | 'user_stop_typing';

/** Tells the receiver's devices or the room, never the typist's own sockets. */
export function relayTyping(io: GatewayServer, event: TypingEvent, userId: string, t: TypingTarget): void {
  const to = 'room_id' in t ? rooms.chat(t.room_id) : rooms.user(t.receiver_id);
  // Volatile: a typing indicator that cannot be written now is worthless later, so it is never queued.
  io.to(to).except(rooms.user(userId)).volatile.emit(event, { user_id: userId, ...t });
}

export interface TypingDeps {
  io: GatewayServer;
  membership: MembershipCache;
  typing: TypingTracker;
}

export function typingHandlers({ io, membership, typing }: TypingDeps): HandlersOf<'typing' | 'stop_typing'> {
  return {
    async typing(ctx, t) {
      if ('room_id' in t) await membership.require(t.room_id, ctx.userId, ctx.requestId);
      if (typing.start(ctx.userId, ctx.socket.id, t)) relayTyping(io, 'user_typing', ctx.userId, t);
      return {};
    },
    async stop_typing(ctx, t) {
      if (typing.stop(ctx.userId, t)) relayTyping(io, 'user_stop_typing', ctx.userId, t);
      return {};
    },
  };
}

import { rooms } from '../events.js';
import { target } from '../schemas.js';
import { defineHandler, type EventContext } from '../types.js';
import type { TypingTarget } from '../../typing/TypingTracker.js';

type TypingEvent = 'user_typing' | 'user_stop_typing';

/** Tells the receiver's devices or the room, never the typist's own sockets. */
export function relayTyping(services: EventContext['services'], event: TypingEvent, userId: string, t: TypingTarget): void {
  const to = 'room_id' in t ? rooms.chat(t.room_id) : rooms.user(t.receiver_id);
  // Volatile: a typing indicator that cannot be written now is worthless later, so it is never queued.
  services.io.to(to).except(rooms.user(userId)).volatile.emit(event, { user_id: userId, ...t });
}

async function requireRoomMember(ctx: EventContext, t: TypingTarget): Promise<void> {
  if ('room_id' in t) await ctx.services.membership.require(t.room_id, ctx.userId, ctx.requestId);
}

export const typingHandlers = [
  defineHandler({
    event: 'typing',
    family: 'typing',
    schema: target,
    async handle(ctx, t) {
      await requireRoomMember(ctx, t);
      if (ctx.services.typing.start(ctx.userId, ctx.socket.id, t)) relayTyping(ctx.services, 'user_typing', ctx.userId, t);
      return {};
    },
  }),
  defineHandler({
    event: 'stop_typing',
    family: 'typing',
    schema: target,
    async handle(ctx, t) {
      if (ctx.services.typing.stop(ctx.userId, t)) relayTyping(ctx.services, 'user_stop_typing', ctx.userId, t);
      return {};
    },
  }),
];

import { z } from 'zod';
import { errors } from '../../errors/GatewayError.js';
import { rooms } from '../events.js';
import { userIdList } from '../schemas.js';
import { defineHandler } from '../types.js';

/** Answers are capped like requests (contract section 3). */
const MAX_LISTED = 1000;
/** Presence subscriptions one socket may hold, so subscribing cannot grow memory without bound. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 1000;

export const presenceHandlers = [
  defineHandler({
    event: 'get_online_users',
    family: 'presence',
    schema: z.object({ user_ids: userIdList.optional() }),
    async handle(ctx, { user_ids }) {
      const store = ctx.services.presenceStore;
      const users = user_ids ? await store.onlineAmong(user_ids) : await store.listOnline(MAX_LISTED);
      return { users };
    },
  }),
  defineHandler({
    event: 'presence_subscribe',
    family: 'presence',
    schema: z.object({ user_ids: userIdList }),
    async handle(ctx, { user_ids }) {
      const wanted = user_ids.map(rooms.presence);
      const held = [...ctx.socket.rooms].filter(rooms.isPresence).length;
      const added = wanted.filter((r) => !ctx.socket.rooms.has(r)).length;
      if (held + added > MAX_SUBSCRIPTIONS_PER_SOCKET) {
        throw errors.validation(`at most ${MAX_SUBSCRIPTIONS_PER_SOCKET} presence subscriptions per socket`);
      }
      await ctx.socket.join(wanted);
      return { online: await ctx.services.presenceStore.onlineAmong(user_ids) };
    },
  }),
  defineHandler({
    event: 'presence_unsubscribe',
    family: 'presence',
    schema: z.object({ user_ids: userIdList }),
    async handle(ctx, { user_ids }) {
      await Promise.all(user_ids.map((u) => ctx.socket.leave(rooms.presence(u))));
      return {};
    },
  }),
];

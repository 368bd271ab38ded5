import { z } from 'zod';
import { rooms } from '../events.js';
import { userIdList } from '../schemas.js';
import { defineHandler } from '../types.js';

/** Answers are capped like requests (contract section 3). */
const MAX_LISTED = 1000;

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
      await ctx.socket.join(user_ids.map(rooms.presence));
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

import { errors } from '../../errors/GatewayError.js';
import { rooms } from '../../contract/index.js';
import type { PresenceStore } from '../../presence/PresenceStore.js';
import type { HandlersOf } from '../types.js';

/** Answers are capped like requests (contract section 3). */
const MAX_LISTED = 1000;
/** Presence subscriptions one socket may hold, so subscribing cannot grow memory without bound. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 1000;

export function presenceHandlers(store: PresenceStore): HandlersOf<'get_online_users' | 'presence_subscribe' | 'presence_unsubscribe'> {
  return {
    async get_online_users(_ctx, { user_ids }) {
      const users = user_ids ? await store.onlineAmong(user_ids) : await store.listOnline(MAX_LISTED);
      return { users };
    },
    async presence_subscribe(ctx, { user_ids }) {
      const wanted = user_ids.map(rooms.presence);
      const held = [...ctx.socket.rooms].filter(rooms.isPresence).length;
      const added = wanted.filter((r) => !ctx.socket.rooms.has(r)).length;
      if (held + added > MAX_SUBSCRIPTIONS_PER_SOCKET) {
        throw errors.validation(`at most ${MAX_SUBSCRIPTIONS_PER_SOCKET} presence subscriptions per socket`);
      }
      await ctx.socket.join(wanted);
      return { online: await store.onlineAmong(user_ids) };
    },
    async presence_unsubscribe(ctx, { user_ids }) {
      await Promise.all(user_ids.map((u) => ctx.socket.leave(rooms.presence(u))));
      return {};
    },
  };
}

/**
 * Compile-only checks (run by `npm run typecheck`, never by mocha): a handler's ack is checked
 * against the contract's ack schema, and an event added to a copy of the contract gets its types
 * everywhere without a second declaration. Each `@ts-expect-error` fails the typecheck if the line
 * below it ever compiles.
 */
import type { ClientToServerEventsOf, ServerToClientEventsOf } from '../../src/contract/index.js';
import { Dispatcher } from '../../src/socket/dispatcher.js';
import type { EventHandler, EventHandlers } from '../../src/socket/types.js';
import type { ThrowawayClientEvents, throwawayServerEvents } from '../support/throwawayContract.js';

type C = ThrowawayClientEvents;

export const setMood: EventHandler<'set_mood', C> = async (_ctx, { mood }) => ({ mood });
// @ts-expect-error the ack's mood is 'happy' | 'sad', not a number
export const wrongAckType: EventHandler<'set_mood', C> = async () => ({ mood: 42 });
// @ts-expect-error the ack must carry mood
export const missingAck: EventHandler<'set_mood', C> = async () => ({});
// @ts-expect-error the payload has no `colour`
export const wrongPayload: EventHandler<'set_mood', C> = async (_ctx, p) => ({ mood: p.colour });

// The contract's own events are checked the same way.
export const joinRoom: EventHandler<'join_room'> = async (_ctx, { room_id }) => ({ room_id });
// @ts-expect-error join_room's ack is { room_id }
export const wrongJoinAck: EventHandler<'join_room'> = async (_ctx, { room_id }) => ({ room: room_id });
// @ts-expect-error typing's ack is empty
export const wrongTypingAck: EventHandler<'typing'> = async () => ({ typing: true });
// @ts-expect-error receipts ack their status as delivered or read
export const wrongReceipt: EventHandler<'message_read'> = async (_ctx, { message_id }) => ({ message_id, status: 'seen' });

declare const withoutSetMood: EventHandlers;
declare const deps: ConstructorParameters<typeof Dispatcher>[2];
declare const copy: C;
// @ts-expect-error a dispatcher of the copy needs a handler for set_mood
new Dispatcher(copy, withoutSetMood, deps);

// Socket.IO's event maps (and so `emit`/`on` on both sides) follow the copy too.
declare const emit: ClientToServerEventsOf<C>['set_mood'];
emit({ mood: 'sad' }, (ack) => (ack.ok ? ack.mood : ack.error.code));
// @ts-expect-error a client cannot send a mood the schema does not list
emit({ mood: 'grumpy' });
declare const listen: (listener: ServerToClientEventsOf<typeof throwawayServerEvents>['mood_changed']) => void;
listen(({ user_id, mood }) => `${user_id} ${mood}`);
// @ts-expect-error mood_changed carries no `colour`
listen(({ colour }: { colour: string }) => colour);

// The contract's `typing` takes exactly one target, in the types as at run time.
declare const typing: ClientToServerEventsOf<C>['typing'];
typing({ receiver_id: 'bob' });
typing({ room_id: 'general' });
// @ts-expect-error neither target
typing({});
// @ts-expect-error both targets
typing({ receiver_id: 'bob', room_id: 'general' });

import { z } from 'zod';
import { clientEvent, clientEvents, id, serverEvents } from '../../src/contract/index.js';

/**
 * A copy of the contract with one event more each way, as a v2 feature would add them: shows that
 * the server's validation, the types and the AsyncAPI document all follow the contract.
 */
export const throwawayClientEvents = {
  ...clientEvents,
  set_mood: clientEvent({
    family: 'presence',
    payload: z.object({ mood: z.enum(['happy', 'sad']), until: z.string().max(32).optional() }),
    ack: z.strictObject({ mood: z.enum(['happy', 'sad']) }),
    summary: 'A throwaway event: a client sets its mood.',
  }),
};

export const throwawayServerEvents = {
  ...serverEvents,
  mood_changed: { payload: z.strictObject({ user_id: id, mood: z.enum(['happy', 'sad']) }), summary: 'A throwaway event: a user changed mood.' },
};

export type ThrowawayClientEvents = typeof throwawayClientEvents;

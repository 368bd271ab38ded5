import { z } from 'zod';
import { id } from './ids.js';

/** Exactly one of `receiver_id` and `room_id`, as the types say it (the schema checks it at run time). */
export type OneTarget = { receiver_id: string; room_id?: undefined } | { room_id: string; receiver_id?: undefined };

const EXACTLY_ONE = 'give exactly one of receiver_id and room_id';

function hasOneTarget(payload: object): boolean {
  const t = payload as { receiver_id?: unknown; room_id?: unknown };
  return (t.receiver_id === undefined) !== (t.room_id === undefined);
}

/** The JSON Schema of "exactly one of the two", which the refinement below cannot show. */
const ONE_OF_JSON = [
  { required: ['receiver_id'], not: { required: ['room_id'] } },
  { required: ['room_id'], not: { required: ['receiver_id'] } },
];

/**
 * `{ receiver_id | room_id, ...fields }`. An object with a refinement, so a bad id gets its own
 * message (`receiver_id: must not be empty`); typed as the union a client must send.
 */
export function exactlyOneTarget<F extends z.ZodRawShape>(fields: F) {
  const schema = z
    .object({ receiver_id: id.optional(), room_id: id.optional(), ...fields })
    .refine(hasOneTarget, EXACTLY_ONE)
    .meta({ oneOf: ONE_OF_JSON });
  type Fields = z.ZodObject<F>;
  return schema as unknown as z.ZodType<Omit<z.output<Fields>, 'receiver_id' | 'room_id'> & OneTarget, Omit<z.input<Fields>, 'receiver_id' | 'room_id'> & OneTarget>;
}

/**
 * `typing` / `stop_typing`: `{ receiver_id | room_id }`, narrowed to the one given. A refinement
 * does not narrow a type, hence the cast to the union the refinement enforces.
 */
export const target = (
  z
    .object({ receiver_id: id.optional(), room_id: id.optional() })
    .refine(hasOneTarget, EXACTLY_ONE)
    .transform((t) => (t.room_id !== undefined ? { room_id: t.room_id } : { receiver_id: t.receiver_id! }))
    .meta({ oneOf: ONE_OF_JSON, description: 'Exactly one of `receiver_id` and `room_id`.' }) as unknown as z.ZodType<
    { receiver_id: string } | { room_id: string },
    OneTarget
  >
);

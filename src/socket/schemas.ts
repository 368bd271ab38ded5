import { isDotSegment } from '../clients/ServiceClient.js';
import { z } from 'zod';

/** Ids: non-empty strings of at most 128 characters (contract conventions). */
export const id = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .refine((v) => !isDotSegment(v), 'must not be "." or ".."')
  .refine(isWellFormed, 'must be well-formed Unicode');

/** False for a string holding half of a UTF-16 pair, which cannot be URL- or header-encoded. */
export function isWellFormed(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/** Half of a UTF-16 pair on its own: not a character, and not encodable in a URL. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A list of user ids, at most 1000 (contract section 3). */
export const userIdList = z.array(id).max(1000, 'at most 1000 user ids');

/** `{ receiver_id | room_id }`: exactly one of the two. */
export const target = z
  .object({ receiver_id: id.optional(), room_id: id.optional() })
  .refine((t) => (t.receiver_id === undefined) !== (t.room_id === undefined), 'give exactly one of receiver_id and room_id')
  .transform((t) => (t.room_id !== undefined ? { room_id: t.room_id } : { receiver_id: t.receiver_id! }));

/** `{ message_id }`. */
export const messageRef = z.object({ message_id: id });

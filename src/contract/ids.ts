import { z } from 'zod';

/** False for a string holding half of a UTF-16 pair, which cannot be URL- or header-encoded. */
export function isWellFormed(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/** Half of a UTF-16 pair on its own: not a character, and not encodable in a URL. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `.` and `..` would move a service URL's path when used as one of its segments. */
export function isDotSegment(segment: string): boolean {
  return segment === '.' || segment === '..';
}

/** Ids: non-empty strings of at most 128 characters (contract conventions). */
export const id = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .refine((v) => !isDotSegment(v), 'must not be "." or ".."')
  .refine(isWellFormed, 'must be well-formed Unicode')
  .meta({
    not: { enum: ['.', '..'] },
    description: 'A non-empty id of at most 128 characters; not `.` or `..`, and well-formed Unicode (no lone surrogate).',
  });

/** A list of user ids, at most 1000 (contract section 3). */
export const userIdList = z.array(id).max(1000, 'at most 1000 user ids').meta({ description: 'At most 1000 user ids.' });

/** ISO-8601 UTC times. */
export const timestamp = z.string().meta({ format: 'date-time', description: 'ISO-8601 UTC time.' });

/** `client_msg_id`: makes `send_message` idempotent. */
export const clientMsgId = z
  .string()
  .min(1)
  .max(64)
  .refine(isWellFormed, 'must be well-formed Unicode')
  .meta({
    description:
      'Makes `send_message` idempotent: forwarded as `Idempotency-Key: {sender_id}:{client_msg_id}`; a retry with the same id never creates a second message.',
  });

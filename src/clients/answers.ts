import { z } from 'zod';
import { isValidId } from '../auth/TokenVerifier.js';

/**
 * What the gateway reads of each backend answer (contract section 6), and nothing more: these
 * run on every message and receipt. Loose objects without transforms, so the answer passes on
 * as it came (a stored message keeps every field the chat-service gave it).
 */

/** An id the gateway routes by (`user:{id}` rooms) or passes in a header. */
const routableId = z.string().refine(isValidId, 'must be a valid id');

/** POST /auth/verify → 200 `{ user_id, expires_at? }`. */
export const verifiedTokenAnswer = z.looseObject({ user_id: routableId, expires_at: z.string().optional() });

/** A message as the chat-service stored it: the gateway reads its id (the rest is relayed as it is). */
export const storedMessage = z.looseObject({ message_id: routableId });

/** `{ message }`: how POST /messages answers, and a successful entry of POST /messages/batch. */
export const wrappedMessage = z.looseObject({ message: storedMessage });

/** POST /messages → 201 `{ message }`, or the message at top level. */
export const createdMessageAnswer = z.union([wrappedMessage, storedMessage]);

type StoredMessage = z.output<typeof storedMessage>;

/** The stored message of a `createdMessageAnswer`: `message` when it is one, else the answer itself. */
export function storedOf(answer: z.output<typeof createdMessageAnswer>): StoredMessage {
  const inner = answer.message as Partial<StoredMessage> | null | undefined;
  return typeof inner?.message_id === 'string' ? (inner as StoredMessage) : (answer as StoredMessage);
}

/** POST /messages/{id}/receipts → 200 `{ message_id, sender_id, status, at? }`: the receipt goes to `sender_id`. */
export const receiptAnswer = z.looseObject({ sender_id: routableId, at: z.string().optional() });

/** DELETE /messages/{id} → 200 `{ message_id, sender_id, receiver_id?, room_id? }`: the conversation told of it. */
export const deletedMessageAnswer = z.looseObject({
  sender_id: routableId,
  receiver_id: routableId.optional(),
  room_id: routableId.optional(),
});

/** An item of a batch answer's `results` that is an error. */
export const batchItemError = z.looseObject({ error: z.looseObject({ status: z.number().int(), code: z.string().optional() }) });

/** POST /messages/batch and /receipts/batch → `{ results: [...] }`, one entry per item, in order. */
export const batchAnswer = z.looseObject({ results: z.array(z.unknown()) });

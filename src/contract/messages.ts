import { z } from 'zod';
import { clientMsgId, id, timestamp } from './ids.js';
import { exactlyOneTarget } from './target.js';

/** The configured rules of message payloads (`MAX_MESSAGE_LENGTH`, `MESSAGE_TYPES`). */
export interface MessageRules {
  maxMessageLength: number;
  messageTypes: readonly string[];
}

/** The configuration's defaults; the contract's types and documents are built with them. */
export const DEFAULT_MESSAGE_RULES: MessageRules = {
  maxMessageLength: 4000,
  messageTypes: ['text', 'image', 'file', 'audio', 'video', 'system'],
};

export const metadata = z.record(z.string(), z.unknown()).meta({ description: 'Free-form object, forwarded to the chat-service as given.' });

/** A message as the chat-service stored it (contract section 4); it may carry more fields. */
export const chatMessage = z
  .looseObject({
    message_id: id,
    sender_id: id,
    receiver_id: id.optional(),
    room_id: id.optional(),
    content: z.string(),
    message_type: z.string(),
    client_msg_id: clientMsgId.optional(),
    reply_to: id.optional(),
    metadata: metadata.optional(),
    created_at: timestamp,
  })
  .meta({ description: 'A message as the chat-service stored it; it may carry more fields.' });
export type ChatMessage = z.output<typeof chatMessage>;

/** Length in characters (code points), cheap for the common short message. */
function withinLength(text: string, max: number): boolean {
  if (text.length === 0) return false;
  if (text.length <= max) return true;
  let count = 0;
  for (const _ of text) if (++count > max) return false;
  return true;
}

/** The fields of a message a client sends, checked against the configured rules. */
function messageFields(rules: MessageRules) {
  const max = rules.maxMessageLength;
  return {
    content: z
      .string()
      .refine((c) => withinLength(c.trim(), max), `must be 1 to ${max} characters`)
      .meta({
        minLength: 1,
        maxLength: max,
        pattern: '\\S',
        description: `1..\`MAX_MESSAGE_LENGTH\` (here ${max}) characters (code points), counted after trimming surrounding whitespace: whitespace alone is refused, and whitespace around the text does not count towards the limit.`,
      }),
    message_type: z
      .enum(rules.messageTypes as [string, ...string[]])
      .default('text')
      .meta({ description: 'One of `MESSAGE_TYPES` (default text, image, file, audio, video, system).' }),
    client_msg_id: clientMsgId.optional(),
    reply_to: id.optional(),
    metadata: metadata.optional(),
  };
}

/** `send_message`: `{ receiver_id | room_id, content, ... }`. */
export function sendMessagePayload(rules: MessageRules) {
  return exactlyOneTarget(messageFields(rules));
}

/** `send_group_message`: a room message; a `receiver_id` is refused, not ignored. */
export function sendGroupMessagePayload(rules: MessageRules) {
  return z.object({
    room_id: id,
    receiver_id: z.never({ error: 'send_group_message takes room_id only' }).optional(),
    ...messageFields(rules),
  });
}

/** The ack data and `receive_message` payload: the stored message. */
export const messageAck = z.strictObject({ message: chatMessage });

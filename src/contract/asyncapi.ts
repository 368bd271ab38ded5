import { z } from 'zod';
import { ackError, errorCode } from './errorCodes.js';
import { RATE_LIMIT_FAMILIES } from './families.js';
import { clientMsgId, id, timestamp, userIdList } from './ids.js';
import { chatMessage, metadata } from './messages.js';
import type { ClientEventMap } from './clientEvents.js';
import type { ServerEventMap } from './serverEvents.js';
import { ASYNCAPI_INFO, CONNECT_ERROR, PUSHED_EVENTS, SECURITY_SCHEMES, SERVERS } from './asyncapiText.js';

type Json = Record<string, unknown>;

/** Schemas shown once under `components.schemas` and referenced wherever an event uses them. */
const SHARED: ReadonlyMap<z.ZodType, string> = new Map<z.ZodType, string>([
  [id, 'Id'],
  [userIdList, 'UserIdList'],
  [timestamp, 'Timestamp'],
  [clientMsgId, 'ClientMsgId'],
  [metadata, 'Metadata'],
  [chatMessage, 'ChatMessage'],
  [errorCode, 'ErrorCode'],
  [ackError, 'AckError'],
]);

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A zod schema as AsyncAPI's JSON Schema (draft 07), shared parts as `$ref`s. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output', root?: string): Json {
  const json = z.toJSONSchema(schema, {
    target: 'draft-07',
    io,
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema: out, path }) => {
      const schema = zodSchema as unknown as z.ZodType;
      const name = SHARED.get(schema) ?? SHARED.get(schema._zod.parent as z.ZodType);
      if (!name || (path.length === 0 && name === root)) return;
      // A shared schema with a description of its own (`id.meta(...)`) keeps it beside the reference.
      const description = SHARED.has(schema) ? undefined : out.description;
      for (const key of Object.keys(out)) delete (out as Json)[key];
      Object.assign(out, description ? { allOf: [ref(name)], description } : ref(name));
    },
  }) as Json;
  delete json.$schema;
  return unwrapLoneAllOf(json) as Json;
}

/** `{ allOf: [x] }` alone, as the converter wraps a reference to an optional field's schema, is `x`. */
function unwrapLoneAllOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapLoneAllOf);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).map(([key, v]) => [key, unwrapLoneAllOf(v)] as const);
  const allOf = (value as Json).allOf;
  if (entries.length === 1 && Array.isArray(allOf) && allOf.length === 1) return unwrapLoneAllOf(allOf[0]);
  return Object.fromEntries(entries);
}

const pascal = (event: string) => event.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());

/** `{ ok: true, ...data }` or `{ ok: false, error }` with the event's own codes. */
function ackEnvelope(ack: z.ZodType, codes: readonly string[]): Json {
  const data = jsonSchema(ack, 'output');
  const properties = { ok: { const: true }, ...((data.properties as Json | undefined) ?? {}) };
  const success = { type: 'object', required: ['ok', ...((data.required as string[] | undefined) ?? [])], properties, additionalProperties: false };
  const failure = {
    type: 'object',
    required: ['ok', 'error'],
    properties: { ok: { const: false }, error: { allOf: [ref('AckError')], properties: { code: { enum: [...codes] } } } },
    additionalProperties: false,
  };
  return { oneOf: [success, failure] };
}

/**
 * The AsyncAPI 3.0 document of a contract's events: a channel, an operation and messages per
 * event, payloads converted from the contract's zod schemas. `docs/asyncapi.yaml` is this, written out.
 */
export function asyncApiDocument(client: ClientEventMap, server: ServerEventMap): Json {
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = {};
  for (const [event, spec] of Object.entries(client)) {
    const name = pascal(event);
    messages[name] = { name: event, title: event, payload: jsonSchema(spec.payload, 'input') };
    messages[`${name}Ack`] = { name: `${event} ack`, title: `${event} ack`, payload: ackEnvelope(spec.ack, spec.errors) };
    channels[event] = {
      address: event,
      title: event,
      messages: { request: { $ref: `#/components/messages/${name}` }, ack: { $ref: `#/components/messages/${name}Ack` } },
    };
    operations[`on${name}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${event}` },
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [{ name: spec.family }],
      messages: [{ $ref: `#/channels/${event}/messages/request` }],
      reply: { channel: { $ref: `#/channels/${event}` }, messages: [{ $ref: `#/channels/${event}/messages/ack` }] },
    };
  }
  for (const [event, spec] of Object.entries(server)) {
    const name = pascal(event);
    messages[name] = { name: event, title: event, payload: jsonSchema(spec.payload, 'output') };
    channels[event] = { address: event, title: event, messages: { [event]: { $ref: `#/components/messages/${name}` } } };
    operations[`send${name}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${event}` },
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      ...(spec.session ? { tags: [{ name: 'session' }] } : {}),
      messages: [{ $ref: `#/channels/${event}/messages/${event}` }],
    };
  }
  for (const extra of [CONNECT_ERROR, PUSHED_EVENTS]) {
    Object.assign(channels, extra.channels);
    Object.assign(operations, extra.operations);
    Object.assign(messages, extra.messages);
  }
  const schemas: Json = {};
  for (const [schema, name] of SHARED) schemas[name] = jsonSchema(schema, 'output', name);
  schemas.AckFailure = { type: 'object', required: ['ok', 'error'], properties: { ok: { const: false }, error: ref('AckError') }, additionalProperties: false };
  const tags = [
    ...RATE_LIMIT_FAMILIES.map((family) => ({ name: family, description: `Rate-limit family \`${family}\`.` })),
    { name: 'session', description: 'Connection lifecycle events sent by the gateway.' },
  ];
  return {
    asyncapi: '3.0.0',
    info: { ...ASYNCAPI_INFO, tags },
    defaultContentType: 'application/json',
    servers: SERVERS,
    channels,
    operations,
    components: { securitySchemes: SECURITY_SCHEMES, schemas, messages },
  };
}

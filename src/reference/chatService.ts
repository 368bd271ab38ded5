import { randomBytes } from 'node:crypto';
import type { Express, RequestHandler } from 'express';
import { z } from 'zod';
import type { ChatMessage } from '../contract/index.js';
import {
  FaultInjector,
  PATH_ID_PATTERN,
  createServiceApp,
  fail,
  ok,
  parseThen,
  sendOutcome,
  startService,
  type ListenOptions,
  type Outcome,
  type RecordedRequest,
  type RunningServer,
} from './serviceKit.js';

/** Options of the reference chat-service. */
export interface ChatServiceOptions {
  /** When set, every call but `GET /health` needs `Authorization: Bearer {serviceToken}`. */
  serviceToken?: string;
  /**
   * The gateway's backend API: when set, a message created over `POST /v1/messages` is pushed to
   * `POST {url}/api/v1/push` with `X-API-Key: {apiKey}` (contract section 5).
   * @default none (nothing is pushed)
   */
  push?: PushTarget;
  /**
   * Serve `POST /messages/batch` and `POST /receipts/batch`; without them those paths answer 404,
   * as a chat-service that never had them would.
   * @default true
   */
  batchEndpoints?: boolean;
}

/** Where and with which key the chat-service pushes to the gateway. */
export interface PushTarget {
  /** The gateway's base URL, e.g. `http://127.0.0.1:3002`. */
  url: string;
  apiKey: string;
}

/** A message as the chat-service returns it: the contract's own type (section 4). */
export type { ChatMessage };

/** A stored message with its receipts: user id → ISO time of that user's first receipt. */
export interface StoredMessage extends ChatMessage {
  delivered: Map<string, string>;
  read: Map<string, string>;
}

/** A receipt status. */
export type ReceiptStatus = 'delivered' | 'read';

/** One receipt the service stored (a repeated receipt is not stored again). */
export interface ReceiptRecord {
  message_id: string;
  user_id: string;
  status: ReceiptStatus;
  at: string;
}

/** The answer to a receipt. */
export interface ReceiptResult {
  message_id: string;
  sender_id: string;
  status: ReceiptStatus;
  at: string;
}

/** A message in a history answer, with who got and who read it (in order of their first receipt). */
export interface HistoryMessage extends ChatMessage {
  delivered_to: string[];
  read_by: string[];
}

/** The answer to a deletion: who has to be told. */
export type DeletedMessage = Pick<ChatMessage, 'message_id' | 'sender_id' | 'receiver_id' | 'room_id'>;

/** One item of a batch answer: the single endpoint's body, or its error status and code. */
export type BatchResult<T> = T | { error: { status: number; code: string } };

/** The reference chat-service: its app and its observable state. */
export interface ChatService {
  app: Express;
  requests: RecordedRequest[];
  faults: FaultInjector;
  /** Live (not deleted) messages by id, in order of creation. */
  messages: Map<string, StoredMessage>;
  /** Members by room id. */
  rooms: Map<string, Set<string>>;
  /** Creates the room when needed and adds the members. */
  addRoom(roomId: string, members: string[]): void;
  receipts: ReceiptRecord[];
}

/** How many messages `GET /messages` returns at most (the latest ones). */
const HISTORY_LIMIT = 50;
/** How many items one batch call may carry. */
const BATCH_MAX = 500;
/** How long a push to the gateway may take before the message is answered as not pushed. */
const PUSH_TIMEOUT_MS = 2000;

const id = z.string().regex(PATH_ID_PATTERN, 'invalid id');
/** A message to store; `idempotency_key` comes from the header on `POST /messages`, from the item in a batch. */
const messageItem = z
  .object({
    sender_id: id,
    receiver_id: id.optional(),
    room_id: id.optional(),
    content: z.string().max(65_536).refine((s) => s.trim().length > 0, 'must not be empty'),
    message_type: z.string().min(1).max(32),
    client_msg_id: z.string().min(1).max(64).optional(),
    reply_to: id.optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    idempotency_key: z.string().min(1).max(256).optional(),
  })
  .refine((m) => (m.receiver_id === undefined) !== (m.room_id === undefined), {
    message: 'exactly one of receiver_id and room_id is required',
    path: ['receiver_id'],
  });
const receiptItem = z.object({ message_id: id, user_id: id, status: z.enum(['delivered', 'read']) });
const roomBody = z.object({ room_id: id, members: z.array(id).max(10_000) });
const userRef = z.object({ user_id: id });
const historyQuery = z.union([z.object({ room_id: id }), z.object({ user_id: id, peer_id: id })]);

type MessageItem = z.output<typeof messageItem>;
type ReceiptItem = z.output<typeof receiptItem>;
type HistoryQuery = z.output<typeof historyQuery>;

/** The service's state and the single-item operations that both single and batch endpoints run. */
class ChatStore {
  readonly messages = new Map<string, StoredMessage>();
  readonly rooms = new Map<string, Set<string>>();
  readonly receipts: ReceiptRecord[] = [];
  /** `{sender_id}\n{key}` → the message first stored under it (kept after its deletion). */
  private readonly byKey = new Map<string, ChatMessage>();

  addRoom(roomId: string, members: string[]): void {
    const set = this.rooms.get(roomId) ?? new Set<string>();
    for (const m of members) set.add(m);
    this.rooms.set(roomId, set);
  }

  isMember(roomId: string, userId: string): boolean {
    return this.rooms.get(roomId)?.has(userId) ?? false;
  }

  roomsOf(userId: string): Array<{ room_id: string; members: string[] }> {
    return [...this.rooms.keys()].filter((r) => this.isMember(r, userId)).map((r) => this.roomView(r));
  }

  roomView(roomId: string): { room_id: string; members: string[] } {
    return { room_id: roomId, members: [...(this.rooms.get(roomId) ?? [])] };
  }

  /** 201 with a new message, 200 with the first one for a repeated key, 403 for a non-member in a room. */
  storeMessage({ idempotency_key, ...input }: MessageItem): Outcome<{ message: ChatMessage }> {
    const key = idempotency_key === undefined ? undefined : `${input.sender_id}\n${idempotency_key}`;
    const first = key === undefined ? undefined : this.byKey.get(key);
    if (first) return ok({ message: first });
    if (input.room_id !== undefined && !this.isMember(input.room_id, input.sender_id)) {
      return fail(403, 'FORBIDDEN', 'sender is not a member of the room');
    }
    const message: ChatMessage = { message_id: newMessageId(), ...input, created_at: new Date().toISOString() };
    this.messages.set(message.message_id, { ...message, delivered: new Map(), read: new Map() });
    if (key !== undefined) this.byKey.set(key, message);
    return ok({ message }, 201);
  }

  /** 200 (a repeat answers with the first receipt's time), 404 unknown message, 403 not a recipient. */
  storeReceipt({ message_id, user_id, status }: ReceiptItem): Outcome<ReceiptResult> {
    const stored = this.messages.get(message_id);
    if (!stored) return fail(404, 'NOT_FOUND', 'unknown message');
    if (!this.isRecipient(stored, user_id)) return fail(403, 'FORBIDDEN', 'user is not a recipient of the message');
    let at = stored[status].get(user_id);
    if (at === undefined) {
      at = new Date().toISOString();
      stored[status].set(user_id, at);
      this.receipts.push({ message_id, user_id, status, at });
    }
    return ok({ message_id, sender_id: stored.sender_id, status, at });
  }

  /** 200 for the sender, 403 for anyone else, 404 unknown or already deleted. */
  deleteMessage(messageId: string, actor: string | undefined): Outcome<DeletedMessage> {
    const stored = this.messages.get(messageId);
    if (!stored) return fail(404, 'NOT_FOUND', 'unknown message');
    if (actor === undefined) return fail(400, 'VALIDATION_FAILED', 'X-User-Id header is required');
    if (actor !== stored.sender_id) return fail(403, 'FORBIDDEN', 'only the sender may delete a message');
    this.messages.delete(messageId);
    const { message_id, sender_id, receiver_id, room_id } = stored;
    return ok({ message_id, sender_id, receiver_id, room_id });
  }

  /** The latest messages of a room or of a direct conversation, oldest first, with their receipt state. */
  history(query: HistoryQuery): HistoryMessage[] {
    const inConversation =
      'room_id' in query
        ? (m: ChatMessage) => m.room_id === query.room_id
        : (m: ChatMessage) =>
            (m.sender_id === query.user_id && m.receiver_id === query.peer_id) ||
            (m.sender_id === query.peer_id && m.receiver_id === query.user_id);
    return [...this.messages.values()].filter(inConversation).slice(-HISTORY_LIMIT).map(toHistoryMessage);
  }

  private isRecipient(m: ChatMessage, userId: string): boolean {
    if (userId === m.sender_id) return false;
    return m.room_id === undefined ? userId === m.receiver_id : this.isMember(m.room_id, userId);
  }
}

/** Builds the reference chat-service (contract section 6) without listening. */
export function createChatService(opts: ChatServiceOptions = {}): ChatService {
  const store = new ChatStore();
  const requests: RecordedRequest[] = [];
  const faults = new FaultInjector();
  const idParams = ['message_id', 'room_id', 'user_id'];
  const app = createServiceApp(
    { name: 'chat-service', serviceToken: opts.serviceToken, requests, faults, idParams },
    (app) => {
      mountMessageRoutes(app, store, opts.batchEndpoints ?? true);
      mountPublicRoutes(app, store, opts.push);
      mountRoomRoutes(app, store);
    },
  );
  const { messages, rooms, receipts } = store;
  const addRoom = (roomId: string, members: string[]): void => store.addRoom(roomId, members);
  return { app, requests, faults, messages, rooms, receipts, addRoom };
}

/** Starts the reference chat-service on `opts.port` (default: any free port) of `opts.host` (default 127.0.0.1). */
export function startChatService(opts: ChatServiceOptions & ListenOptions = {}): Promise<ChatService & RunningServer> {
  return startService(createChatService(opts), opts);
}

/** Validates and stores one message: the path that every endpoint creating messages shares. */
function sendOne(store: ChatStore, raw: unknown): Outcome<{ message: ChatMessage }> {
  return parseThen(messageItem, raw, (m) => store.storeMessage(m));
}

/** The gateway's endpoints (contract section 6). What the gateway stores here, it relays itself: never pushed. */
function mountMessageRoutes(app: Express, store: ChatStore, batchEndpoints: boolean): void {
  const receiptOne = (raw: unknown) => parseThen(receiptItem, raw, (r) => store.storeReceipt(r));

  app.post('/messages', (req, res) => {
    sendOutcome(res, sendOne(store, { ...asRecord(req.body), idempotency_key: req.get('idempotency-key') }));
  });
  if (batchEndpoints) app.post('/messages/batch', batchRoute('messages', (raw) => sendOne(store, raw)));
  app.post('/messages/:message_id/receipts', (req, res) => {
    sendOutcome(res, receiptOne({ ...asRecord(req.body), message_id: req.params.message_id }));
  });
  if (batchEndpoints) app.post('/receipts/batch', batchRoute('receipts', receiptOne));
  app.delete('/messages/:message_id', (req, res) => {
    sendOutcome(res, store.deleteMessage(req.params.message_id, req.get('x-user-id')));
  });
  app.get('/messages', (req, res) => {
    sendOutcome(res, parseThen(historyQuery, req.query, (q) => ok({ messages: store.history(q) })));
  });
}

/**
 * The service's own REST API for other backends: `POST /v1/messages` takes the body (and
 * `Idempotency-Key`) of `POST /messages`, stores the message, then pushes a new one through the
 * gateway when `push` is set. A failed push never fails the store: 201 `{ message, pushed }`
 * (200 with `pushed: false` for a repeated key, whose message was pushed the first time).
 */
function mountPublicRoutes(app: Express, store: ChatStore, push: PushTarget | undefined): void {
  app.post('/v1/messages', async (req, res) => {
    const stored = sendOne(store, { ...asRecord(req.body), idempotency_key: req.get('idempotency-key') });
    if (!stored.ok) return sendOutcome(res, stored);
    const pushed = push !== undefined && stored.status === 201 ? await pushMessage(push, stored.body.message) : false;
    sendOutcome(res, ok({ ...stored.body, pushed }, stored.status));
  });
}

/** Pushes `receive_message { message }` to the conversation (room members, or both users); true when the gateway accepted it. */
async function pushMessage(push: PushTarget, message: ChatMessage): Promise<boolean> {
  const targets =
    message.room_id !== undefined
      ? { room_ids: [message.room_id], user_ids: [message.sender_id] }
      : { user_ids: [...new Set([message.receiver_id!, message.sender_id])] };
  try {
    const res = await fetch(`${push.url.replace(/\/+$/, '')}/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': push.apiKey },
      body: JSON.stringify({ ...targets, event: 'receive_message', data: { message } }),
      signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok;
  } catch {
    return false;
  }
}

function mountRoomRoutes(app: Express, store: ChatStore): void {
  app.get('/rooms/:room_id/members/:user_id', (req, res) => {
    const { room_id, user_id } = req.params;
    const member = store.isMember(room_id, user_id);
    sendOutcome(res, member ? ok({ room_id, user_id }) : fail(404, 'NOT_FOUND', 'not a member'));
  });
  app.post('/rooms', (req, res) => {
    const created = parseThen(roomBody, req.body, ({ room_id, members }) => {
      if (store.rooms.has(room_id)) return fail(409, 'CONFLICT', 'room exists');
      store.addRoom(room_id, members);
      return ok(store.roomView(room_id), 201);
    });
    sendOutcome(res, created);
  });
  app.post('/rooms/:room_id/members', (req, res) => {
    const { room_id } = req.params;
    const added = parseThen(userRef, req.body, ({ user_id }) => {
      if (!store.rooms.has(room_id)) return fail(404, 'NOT_FOUND', 'unknown room');
      store.addRoom(room_id, [user_id]);
      return ok({ room_id, user_id }, 201);
    });
    sendOutcome(res, added);
  });
  app.get('/rooms', (req, res) => {
    sendOutcome(res, parseThen(userRef, req.query, ({ user_id }) => ok({ rooms: store.roomsOf(user_id) })));
  });
}

/** `POST /…/batch { [field]: [...] }` → 200 `{ results }`, each item run through the single endpoint's path. */
function batchRoute<T>(field: string, one: (raw: unknown) => Outcome<T>): RequestHandler {
  const schema = z.object({ [field]: z.array(z.unknown()).max(BATCH_MAX) });
  return (req, res) => {
    const answer = parseThen(schema, req.body, (body) => {
      const results = (body[field] ?? []).map((raw) => toBatchResult(one(raw)));
      return ok({ results });
    });
    sendOutcome(res, answer);
  };
}

function toBatchResult<T>(outcome: Outcome<T>): BatchResult<T> {
  return outcome.ok ? outcome.body : { error: { status: outcome.status, code: outcome.code } };
}

function asRecord(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

function newMessageId(): string {
  return `m_${randomBytes(12).toString('base64url')}`;
}

function toHistoryMessage({ delivered, read, ...message }: StoredMessage): HistoryMessage {
  // Read implies delivered, whether or not the reader's device sent that receipt first.
  return { ...message, delivered_to: [...new Set([...delivered.keys(), ...read.keys()])], read_by: [...read.keys()] };
}

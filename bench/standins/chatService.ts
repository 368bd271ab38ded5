/**
 * A fast stand-in for the chat-service and the auth-service's status endpoints (contract section
 * 6), in its own process: plain node:http with keep-alive, no validation and no storage: a
 * message id carries its sender (receipts must name the sender), so the stand-in's heap stays the
 * same size however long a run lasts; a growing map made its old-generation collections, and with
 * them the gateway's persistence latency, grow through a run. Announces its port over IPC;
 * `GET /stats` counts calls. `STANDIN_BATCH_ENDPOINTS=absent` answers 404 on the batch endpoints
 * (`POST /messages/batch`, `POST /receipts/batch`, `PUT /users/status`), as services without them do.
 * `POST /auth/verify` (AUTH_MODE=remote) trusts the token's claims and answers after
 * `STANDIN_VERIFY_DELAY_MS` (default 0), the latency of a slow auth-service.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { announceReady } from '../lib/ipc.js';
import { logStalls } from '../lib/stallLog.js';

/** Separates the sequence number from the sender in a message id (`m1z~alice`). */
const SENDER_MARK = '~';
let seq = 0;
const calls: Record<string, number> = {};
let itemsStored = 0;
let receiptsStored = 0;
let statusUpdates = 0;
const BATCH_PATHS = new Set(['POST /messages/batch', 'POST /receipts/batch', 'PUT /users/status']);
const withoutBatchEndpoints = process.env.STANDIN_BATCH_ENDPOINTS === 'absent';
const verifyDelayMs = Number(process.env.STANDIN_VERIFY_DELAY_MS ?? 0);

type Json = Record<string, unknown>;

function store(m: Json): { message: Json } {
  const message_id = `m${(++seq).toString(36)}${SENDER_MARK}${String(m.sender_id)}`;
  itemsStored++;
  const { idempotency_key: _key, ...fields } = m;
  return { message: { ...fields, message_id, created_at: new Date().toISOString() } };
}

/** The sender named in a message id this stand-in made, or undefined for any other id. */
function senderOf(messageId: string): string | undefined {
  const at = messageId.indexOf(SENDER_MARK);
  return messageId.startsWith('m') && at > 1 ? messageId.slice(at + 1) : undefined;
}

/** `[status, body]` of one receipt. */
function receipt(messageId: string, r: Json): [number, Json] {
  const sender = senderOf(messageId);
  if (sender === undefined) return [404, { error: { status: 404, code: 'NOT_FOUND' } }];
  receiptsStored++;
  return [200, { message_id: messageId, sender_id: sender, status: r.status, at: new Date().toISOString() }];
}

function route(method: string, path: string, body: Json): [number, unknown, string] {
  if (withoutBatchEndpoints && BATCH_PATHS.has(`${method} ${path}`)) {
    return [404, { error: { status: 404, code: 'NOT_FOUND' } }, 'batch_endpoint_absent'];
  }
  if (method === 'POST' && path === '/messages') return [201, store(body), 'create_message'];
  if (method === 'POST' && path === '/messages/batch') {
    return [200, { results: (body.messages as Json[]).map(store) }, 'create_message_batch'];
  }
  if (method === 'POST' && path === '/receipts/batch') {
    const results = (body.receipts as Json[]).map((r) => receipt(String(r.message_id), r)[1]);
    return [200, { results }, 'receipt_batch'];
  }
  // auth-service: POST /auth/verify { token }, its claims taken as they are
  if (method === 'POST' && path === '/auth/verify') {
    const claims = JSON.parse(Buffer.from(String(body.token).split('.')[1], 'base64url').toString()) as { sub: string; exp: number };
    return [200, { user_id: claims.sub, expires_at: new Date(claims.exp * 1000).toISOString() }, 'verify'];
  }
  // auth-service: PUT /users/status { updates: [...] }
  if (method === 'PUT' && path === '/users/status') {
    const count = (body.updates as Json[]).length;
    statusUpdates += count;
    return [200, { updated: count }, 'set_status_batch'];
  }
  const parts = path.split('/');
  // auth-service: PUT /users/{id}/status
  if (method === 'PUT' && parts.length === 4 && parts[1] === 'users' && parts[3] === 'status') {
    statusUpdates++;
    return [200, { user_id: decodeURIComponent(parts[2]), status: body.status }, 'set_status'];
  }
  // /messages/{id}/receipts
  if (method === 'POST' && parts.length === 4 && parts[1] === 'messages' && parts[3] === 'receipts') {
    const [status, answer] = receipt(decodeURIComponent(parts[2]), body);
    return [status, answer, 'receipt'];
  }
  // /rooms/{room}/members/{user}: everyone is a member
  if (method === 'GET' && parts.length === 5 && parts[1] === 'rooms' && parts[3] === 'members') {
    return [200, { room_id: decodeURIComponent(parts[2]), user_id: decodeURIComponent(parts[4]) }, 'room_membership'];
  }
  if (method === 'DELETE' && parts.length === 3 && parts[1] === 'messages') {
    const id = decodeURIComponent(parts[2]);
    return [200, { message_id: id, sender_id: senderOf(id) ?? 'unknown' }, 'delete_message'];
  }
  if (method === 'GET' && path === '/stats') {
    return [200, { calls: { ...calls, status_updates: statusUpdates }, items_stored: itemsStored, receipts_stored: receiptsStored }, 'stats'];
  }
  if (method === 'GET' && path === '/health') return [200, { status: 'ok' }, 'health'];
  return [404, { error: { code: 'NOT_FOUND', message: `no route ${method} ${path}` } }, 'unknown'];
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let status: number;
    let answer: unknown;
    let name: string;
    try {
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Json) : {};
      [status, answer, name] = route(req.method ?? 'GET', (req.url ?? '/').split('?')[0], body);
    } catch (e) {
      [status, answer, name] = [400, { error: { code: 'VALIDATION_FAILED', message: (e as Error).message } }, 'bad_request'];
    }
    if (name !== 'stats') calls[name] = (calls[name] ?? 0) + 1;
    const text = JSON.stringify(answer);
    const send = () => res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    if (name === 'verify' && verifyDelayMs > 0) setTimeout(send, verifyDelayMs);
    else send();
  });
});
// New TCP connections show whether the gateway reuses its keep-alive connections.
server.on('connection', () => {
  calls.tcp_connections_opened = (calls.tcp_connections_opened ?? 0) + 1;
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  announceReady({ port: (server.address() as AddressInfo).port });
});
logStalls('chat-standin');
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

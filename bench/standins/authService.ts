/**
 * A fast stand-in for the auth-service (contract section 6), in its own process: plain
 * node:http with keep-alive. `POST /auth/verify` checks the HS256 signature with `JWT_SECRET`
 * and answers after `VERIFY_DELAY_MS` (default 0: a slow auth-service makes remote-mode
 * handshakes wait); status updates, single or batched, are counted and dropped. Announces its
 * port over IPC; `GET /stats` counts calls.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { announceReady } from '../lib/ipc.js';
import { logStalls } from '../lib/stallLog.js';

const secret = process.env.JWT_SECRET ?? '';
const verifyDelayMs = Number(process.env.VERIFY_DELAY_MS ?? 0);
const calls: Record<string, number> = {};
/** Status updates received, a batch counting each of its updates. */
let statusUpdates = 0;

type Json = Record<string, unknown>;

/** `[status, body]` for a token: its `sub` and `exp` when the signature is right. */
function verify(token: unknown): [number, Json] {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return [401, { error: { code: 'AUTH_INVALID', message: 'malformed token' } }];
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return [401, { error: { code: 'AUTH_INVALID', message: 'bad signature' } }];
  }
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString()) as { sub?: string; exp?: number };
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) return [401, { error: { code: 'AUTH_EXPIRED', message: 'expired' } }];
  return [200, { user_id: claims.sub, ...(typeof claims.exp === 'number' ? { expires_at: new Date(claims.exp * 1000).toISOString() } : {}) }];
}

function route(method: string, path: string, body: Json): [number, unknown, string] {
  if (method === 'POST' && path === '/auth/verify') return [...verify(body.token), 'verify'];
  if (method === 'PUT' && path === '/users/status') {
    statusUpdates += Array.isArray(body.updates) ? body.updates.length : 0;
    return [204, undefined, 'set_status_batch'];
  }
  const parts = path.split('/');
  // /users/{id}/status
  if (method === 'PUT' && parts.length === 4 && parts[1] === 'users' && parts[3] === 'status') {
    statusUpdates++;
    return [204, undefined, 'set_status'];
  }
  if (method === 'GET' && path === '/stats') return [200, { calls, status_updates: statusUpdates }, 'stats'];
  if (method === 'GET' && path === '/health') return [200, { status: 'ok' }, 'health'];
  return [404, { error: { code: 'NOT_FOUND', message: `no route ${method} ${path}` } }, 'unknown'];
}

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  if (body === undefined) return void res.writeHead(status).end();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let status: number;
    let body: unknown;
    let name: string;
    try {
      const parsed = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Json) : {};
      [status, body, name] = route(req.method ?? 'GET', (req.url ?? '/').split('?')[0], parsed);
    } catch (e) {
      [status, body, name] = [400, { error: { code: 'VALIDATION_FAILED', message: (e as Error).message } }, 'bad_request'];
    }
    if (name !== 'stats') calls[name] = (calls[name] ?? 0) + 1;
    if (name === 'verify' && verifyDelayMs > 0) setTimeout(() => answer(res, status, body), verifyDelayMs);
    else answer(res, status, body);
  });
});
server.on('connection', () => {
  calls.tcp_connections_opened = (calls.tcp_connections_opened ?? 0) + 1;
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  announceReady({ port: (server.address() as AddressInfo).port });
});
logStalls('auth-standin');
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

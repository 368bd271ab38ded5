import { expect } from 'chai';
import express from 'express';
import { startAuthService, type AuthService } from '../../src/reference/authService.js';
import { startChatService, type ChatService } from '../../src/reference/chatService.js';
import { startHttp, type RunningServer } from '../../src/reference/serviceKit.js';

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/** One HTTP call with a JSON body; the answer's body parsed when it is JSON. */
async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.includes('json') && text.length > 0;
  return { status: res.status, headers: res.headers, body: isJson ? JSON.parse(text) : text };
}

async function waitFor(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const SECRET = 'reference-test-secret';

describe('reference services', () => {
  let auth: AuthService & RunningServer;
  let chat: ChatService & RunningServer;

  before(async () => {
    auth = await startAuthService({ jwtSecret: SECRET, issuer: 'ref-auth', audience: 'gateway' });
    chat = await startChatService({});
  });
  afterEach(() => {
    auth.faults.clear();
    chat.faults.clear();
  });
  after(async () => {
    await Promise.all([auth.close(), chat.close()]);
  });

  const post = (path: string, body: unknown, headers?: Record<string, string>) => call(chat.url, 'POST', path, body, headers);
  const direct = (extra: Record<string, unknown> = {}) => ({
    sender_id: 'alice',
    receiver_id: 'bob',
    content: 'hi bob',
    message_type: 'text',
    ...extra,
  });

  describe('chat-service: POST /messages', () => {
    it('stores a direct message and answers 201 { message }', async () => {
      const res = await post('/messages', direct({ metadata: { lang: 'en' } }));
      expect(res.status).to.equal(201);
      const { message } = res.body;
      expect(message).to.include({ sender_id: 'alice', receiver_id: 'bob', content: 'hi bob', message_type: 'text' });
      expect(message.metadata).to.deep.equal({ lang: 'en' });
      expect(message.message_id).to.match(/^m_/);
      expect(new Date(message.created_at).toISOString()).to.equal(message.created_at);
      expect(chat.messages.get(message.message_id)?.content).to.equal('hi bob');
    });

    it('returns the first message for a repeated Idempotency-Key and never stores a second', async () => {
      const headers = { 'Idempotency-Key': 'alice:c-1' };
      const first = await post('/messages', direct({ client_msg_id: 'c-1' }), headers);
      const again = await post('/messages', direct({ client_msg_id: 'c-1' }), headers);
      expect(first.status).to.equal(201);
      expect(again.status).to.equal(200);
      expect(again.body.message).to.deep.equal(first.body.message);
      const stored = [...chat.messages.values()].filter((m) => m.client_msg_id === 'c-1');
      expect(stored).to.have.length(1);
    });

    it('rejects bad bodies with 400 VALIDATION_FAILED', async () => {
      const both = await post('/messages', direct({ room_id: 'r1' }));
      const empty = await post('/messages', direct({ content: '   ' }));
      const noBody = await call(chat.url, 'POST', '/messages');
      for (const res of [both, empty, noBody]) {
        expect(res.status).to.equal(400);
        expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      }
      expect(both.body.error.message).to.include('exactly one of receiver_id and room_id');
    });

    it('stores room messages from members only (403 otherwise)', async () => {
      chat.addRoom('room-1', ['alice', 'bob', 'carol']);
      const msg = { sender_id: 'alice', room_id: 'room-1', content: 'hello room', message_type: 'text' };
      expect((await post('/messages', msg)).status).to.equal(201);
      const outsider = await post('/messages', { ...msg, sender_id: 'mallory' });
      expect(outsider.status).to.equal(403);
      expect(outsider.body.error.code).to.equal('FORBIDDEN');
    });
  });

  describe('chat-service: POST /v1/messages pushes to the gateway', () => {
    /** A stand-in for the gateway's push endpoint: records each push and answers `status`. */
    interface FakeGateway extends RunningServer {
      pushes: Array<{ apiKey: unknown; body: any }>;
      status: number;
    }
    let gateway: FakeGateway;
    let pushing: ChatService & RunningServer;
    before(async () => {
      const app = express();
      app.use(express.json());
      app.post('/api/v1/push', (req, res) => {
        gateway.pushes.push({ apiKey: req.get('x-api-key'), body: req.body });
        res.status(gateway.status).json({ accepted: true, online_users: [] });
      });
      gateway = Object.assign(await startHttp(app), { pushes: [], status: 202 });
      pushing = await startChatService({ push: { url: `${gateway.url}/`, apiKey: 'push-key' } });
    });
    beforeEach(() => {
      gateway.pushes = [];
      gateway.status = 202;
    });
    after(async () => {
      await Promise.all([gateway.close(), pushing.close()]);
    });
    const postV1 = (body: unknown, headers?: Record<string, string>) => call(pushing.url, 'POST', '/v1/messages', body, headers);

    it('stores a direct message, then pushes receive_message to both users with the API key', async () => {
      const res = await postV1(direct());
      expect(res.status).to.equal(201);
      expect(res.body.pushed).to.equal(true);
      expect(res.body.message).to.include({ sender_id: 'alice', receiver_id: 'bob', content: 'hi bob' });
      expect(pushing.messages.has(res.body.message.message_id)).to.equal(true);
      expect(gateway.pushes).to.deep.equal([
        { apiKey: 'push-key', body: { user_ids: ['bob', 'alice'], event: 'receive_message', data: { message: res.body.message } } },
      ]);
    });

    it('pushes a room message to the room and to the sender', async () => {
      pushing.addRoom('push-room', ['alice', 'bob']);
      const res = await postV1({ sender_id: 'alice', room_id: 'push-room', content: 'hello room', message_type: 'text' });
      expect(res.status).to.equal(201);
      expect(gateway.pushes.map((p) => p.body)).to.deep.equal([
        { room_ids: ['push-room'], user_ids: ['alice'], event: 'receive_message', data: { message: res.body.message } },
      ]);
    });

    it('still stores the message when the gateway refuses or cannot be reached, answering pushed: false', async () => {
      gateway.status = 403;
      const refused = await postV1(direct({ content: 'refused push' }));
      expect(refused.status).to.equal(201);
      expect(refused.body.pushed).to.equal(false);
      expect(pushing.messages.has(refused.body.message.message_id)).to.equal(true);
      const closed = await startHttp(express());
      await closed.close();
      const unreachable = await startChatService({ push: { url: closed.url, apiKey: 'push-key' } });
      try {
        const res = await call(unreachable.url, 'POST', '/v1/messages', direct());
        expect(res.status).to.equal(201);
        expect(res.body.pushed).to.equal(false);
        expect(unreachable.messages.has(res.body.message.message_id)).to.equal(true);
      } finally {
        await unreachable.close();
      }
    });

    it('answers a repeated Idempotency-Key with the first message (200) without pushing it again', async () => {
      const headers = { 'Idempotency-Key': 'alice:v1-1' };
      const first = await postV1(direct({ client_msg_id: 'v1-1' }), headers);
      const again = await postV1(direct({ client_msg_id: 'v1-1' }), headers);
      expect(first.status).to.equal(201);
      expect(again.status).to.equal(200);
      expect(again.body).to.deep.equal({ message: first.body.message, pushed: false });
      expect(gateway.pushes).to.have.length(1);
    });

    it('never pushes what POST /messages stores, nor a message it refuses', async () => {
      expect((await call(pushing.url, 'POST', '/messages', direct())).status).to.equal(201);
      const invalid = await postV1(direct({ content: '  ' }));
      expect(invalid.status).to.equal(400);
      const outsider = await postV1({ sender_id: 'mallory', room_id: 'push-room', content: 'x', message_type: 'text' });
      expect(outsider.status).to.equal(403);
      expect(gateway.pushes).to.deep.equal([]);
    });

    it('answers pushed: false when no push target is configured', async () => {
      const res = await post('/v1/messages', direct());
      expect(res.status).to.equal(201);
      expect(res.body.pushed).to.equal(false);
    });
  });

  describe('chat-service: receipts', () => {
    let messageId: string;
    beforeEach(async () => {
      messageId = (await post('/messages', direct())).body.message.message_id;
    });
    const receipt = (id: string, user_id: string, status = 'delivered') =>
      post(`/messages/${encodeURIComponent(id)}/receipts`, { user_id, status });

    it('answers 404 for an unknown message', async () => {
      const res = await receipt('m_nope', 'bob');
      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('NOT_FOUND');
    });

    it('answers 403 for the sender and for strangers', async () => {
      expect((await receipt(messageId, 'alice')).status).to.equal(403);
      expect((await receipt(messageId, 'mallory')).status).to.equal(403);
    });

    it('answers 200 with the sender for the receiver, idempotently', async () => {
      const first = await receipt(messageId, 'bob', 'read');
      expect(first.status).to.equal(200);
      expect(first.body).to.include({ message_id: messageId, sender_id: 'alice', status: 'read' });
      await new Promise((r) => setTimeout(r, 5));
      const again = await receipt(messageId, 'bob', 'read');
      expect(again.body.at).to.equal(first.body.at);
      expect(chat.receipts.filter((r) => r.message_id === messageId)).to.have.length(1);
      expect(chat.messages.get(messageId)?.read.get('bob')).to.equal(first.body.at);
    });

    it('accepts room members other than the sender', async () => {
      chat.addRoom('room-2', ['alice', 'bob']);
      const sent = await post('/messages', { sender_id: 'alice', room_id: 'room-2', content: 'x', message_type: 'text' });
      expect((await receipt(sent.body.message.message_id, 'bob')).status).to.equal(200);
      expect((await receipt(sent.body.message.message_id, 'carol')).status).to.equal(403);
    });

    it('rejects an invalid id in the path with 400', async () => {
      const res = await receipt('bad id!', 'bob');
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    });
  });

  describe('chat-service: DELETE /messages/:id', () => {
    it('lets only the sender delete (403), then 200, then 404', async () => {
      const { message } = (await post('/messages', direct())).body;
      const path = `/messages/${message.message_id}`;
      const byOther = await call(chat.url, 'DELETE', path, undefined, { 'X-User-Id': 'bob' });
      expect(byOther.status).to.equal(403);
      const bySender = await call(chat.url, 'DELETE', path, undefined, { 'X-User-Id': 'alice' });
      expect(bySender.status).to.equal(200);
      expect(bySender.body).to.deep.equal({ message_id: message.message_id, sender_id: 'alice', receiver_id: 'bob' });
      expect(chat.messages.has(message.message_id)).to.equal(false);
      const again = await call(chat.url, 'DELETE', path, undefined, { 'X-User-Id': 'alice' });
      expect(again.status).to.equal(404);
    });
  });

  describe('chat-service: rooms', () => {
    it('answers membership with 200 or 404', async () => {
      chat.addRoom('room-3', ['dave']);
      const member = await call(chat.url, 'GET', '/rooms/room-3/members/dave');
      expect(member.status).to.equal(200);
      expect(member.body).to.deep.equal({ room_id: 'room-3', user_id: 'dave' });
      expect((await call(chat.url, 'GET', '/rooms/room-3/members/erin')).status).to.equal(404);
      expect((await call(chat.url, 'GET', '/rooms/nowhere/members/dave')).status).to.equal(404);
    });

    it('creates rooms, adds members and lists a user\'s rooms', async () => {
      expect((await post('/rooms', { room_id: 'room-4', members: ['frank'] })).status).to.equal(201);
      expect((await post('/rooms', { room_id: 'room-4', members: [] })).status).to.equal(409);
      expect((await post('/rooms/room-4/members', { user_id: 'gina' })).status).to.equal(201);
      expect((await post('/rooms/nowhere/members', { user_id: 'gina' })).status).to.equal(404);
      const list = await call(chat.url, 'GET', '/rooms?user_id=gina');
      expect(list.body).to.deep.equal({ rooms: [{ room_id: 'room-4', members: ['frank', 'gina'] }] });
      expect((await call(chat.url, 'GET', '/rooms')).status).to.equal(400);
    });

    it('lists the latest messages of a conversation', async () => {
      await post('/messages', direct({ sender_id: 'hank', receiver_id: 'ivy', content: 'one' }));
      await post('/messages', direct({ sender_id: 'ivy', receiver_id: 'hank', content: 'two' }));
      await post('/messages', direct({ sender_id: 'hank', receiver_id: 'zed', content: 'other' }));
      const res = await call(chat.url, 'GET', '/messages?user_id=hank&peer_id=ivy');
      expect(res.body.messages.map((m: { content: string }) => m.content)).to.deep.equal(['one', 'two']);
      expect(res.body.messages[0]).to.not.have.property('delivered');
    });

    it('answers history with each message\'s receipt state (who got it, who read it)', async () => {
      chat.addRoom('room-r', ['kim', 'lee', 'max']);
      const sent = await post('/messages', { sender_id: 'kim', room_id: 'room-r', content: 'standup?', message_type: 'text' });
      const id = sent.body.message.message_id;
      await post(`/messages/${id}/receipts`, { user_id: 'lee', status: 'delivered' });
      await post(`/messages/${id}/receipts`, { user_id: 'max', status: 'read' }); // read with no delivered receipt first
      const res = await call(chat.url, 'GET', '/messages?room_id=room-r');
      expect(res.body.messages.map((m: { delivered_to: string[]; read_by: string[] }) => [m.delivered_to, m.read_by])).to.deep.equal([[['lee', 'max'], ['max']]]);
    });
  });

  describe('chat-service: batch endpoints', () => {
    it('POST /messages/batch answers each item in order through the single-message rules', async () => {
      chat.addRoom('room-5', ['alice']);
      const res = await post('/messages/batch', {
        messages: [
          direct({ idempotency_key: 'alice:b-1', client_msg_id: 'b-1' }),
          direct({ content: '' }),
          { sender_id: 'mallory', room_id: 'room-5', content: 'x', message_type: 'text' },
          direct({ idempotency_key: 'alice:b-1', client_msg_id: 'b-1' }),
        ],
      });
      expect(res.status).to.equal(200);
      const [created, invalid, forbidden, repeated] = res.body.results;
      expect(created.message.client_msg_id).to.equal('b-1');
      expect(invalid).to.deep.equal({ error: { status: 400, code: 'VALIDATION_FAILED' } });
      expect(forbidden).to.deep.equal({ error: { status: 403, code: 'FORBIDDEN' } });
      expect(repeated.message.message_id).to.equal(created.message.message_id);
    });

    it('POST /receipts/batch answers each item in order', async () => {
      const { message } = (await post('/messages', direct())).body;
      const res = await post('/receipts/batch', {
        receipts: [
          { message_id: message.message_id, user_id: 'bob', status: 'delivered' },
          { message_id: 'm_missing', user_id: 'bob', status: 'read' },
          { message_id: message.message_id, user_id: 'mallory', status: 'read' },
        ],
      });
      const [done, missing, forbidden] = res.body.results;
      expect(done).to.include({ message_id: message.message_id, sender_id: 'alice', status: 'delivered' });
      expect(missing).to.deep.equal({ error: { status: 404, code: 'NOT_FOUND' } });
      expect(forbidden).to.deep.equal({ error: { status: 403, code: 'FORBIDDEN' } });
    });

    it('rejects a batch that is not a list', async () => {
      expect((await post('/messages/batch', { messages: 'x' })).status).to.equal(400);
    });

    it('answers 404 on both batch paths when started without them', async () => {
      const bare = await startChatService({ batchEndpoints: false });
      try {
        expect((await call(bare.url, 'POST', '/messages/batch', { messages: [direct()] })).status).to.equal(404);
        expect((await call(bare.url, 'POST', '/receipts/batch', { receipts: [] })).status).to.equal(404);
        expect((await call(bare.url, 'POST', '/messages', direct())).status).to.equal(201);
        expect(bare.messages.size).to.equal(1);
      } finally {
        await bare.close();
      }
    });
  });

  describe('auth-service', () => {
    it('issues dev tokens that /auth/verify accepts', async () => {
      const issued = await call(auth.url, 'POST', '/auth/dev-token', { user_id: 'alice', ttl_s: 60 });
      expect(issued.status).to.equal(200);
      expect(issued.body.user_id).to.equal('alice');
      const verified = await call(auth.url, 'POST', '/auth/verify', { token: issued.body.token });
      expect(verified.status).to.equal(200);
      expect(verified.body).to.deep.equal({ user_id: 'alice', expires_at: issued.body.expires_at });
      const lifetimeS = (Date.parse(verified.body.expires_at) - Date.now()) / 1000;
      expect(lifetimeS).to.be.within(55, 61);
    });

    it('rejects invalid user ids for dev tokens', async () => {
      const res = await call(auth.url, 'POST', '/auth/dev-token', { user_id: 'no spaces' });
      expect(res.status).to.equal(400);
    });

    it('answers 401 AUTH_EXPIRED for an expired token and AUTH_INVALID for bad ones', async () => {
      const expect401 = async (token: string, code: string) => {
        const res = await call(auth.url, 'POST', '/auth/verify', { token });
        expect(res.status).to.equal(401);
        expect(res.body.error.code).to.equal(code);
      };
      await expect401(auth.issueToken('alice', -10), 'AUTH_EXPIRED');
      await expect401('not.a.jwt', 'AUTH_INVALID');
      await expect401(auth.issueToken('alice', 60, { exp: undefined }), 'AUTH_INVALID');
      const other = await startAuthService({ jwtSecret: 'another-secret', issuer: 'ref-auth', audience: 'gateway' });
      try {
        await expect401(other.issueToken('alice'), 'AUTH_INVALID');
      } finally {
        await other.close();
      }
    });

    it('records status changes and serves the current one', async () => {
      const put = (status: string, last_seen?: string) =>
        call(auth.url, 'PUT', '/users/user%40example.com/status', { status, last_seen });
      expect((await put('online')).status).to.equal(204);
      const lastSeen = new Date().toISOString();
      expect((await put('offline', lastSeen)).status).to.equal(204);
      expect((await put('sleeping')).status).to.equal(400);
      const current = await call(auth.url, 'GET', '/users/user@example.com/status');
      expect(current.body).to.include({ user_id: 'user@example.com', status: 'offline', last_seen: lastSeen });
      const history = auth.statusHistory.filter((s) => s.user_id === 'user@example.com');
      expect(history.map((s) => s.status)).to.deep.equal(['online', 'offline']);
      expect((await call(auth.url, 'GET', '/users/nobody/status')).status).to.equal(404);
    });

    it('accepts the v2 statuses with a status_text', async () => {
      const res = await call(auth.url, 'PUT', '/users/carol/status', { status: 'busy', status_text: 'in a meeting' });
      expect(res.status).to.equal(204);
      expect((await call(auth.url, 'GET', '/users/carol/status')).body).to.include({ status: 'busy', status_text: 'in a meeting' });
      for (const status of ['away', 'invisible']) expect((await call(auth.url, 'PUT', '/users/carol/status', { status })).status, status).to.equal(204);
    });

    it('PUT /users/status records many users\' updates in order, as the single endpoint does; a bad item refuses the call', async () => {
      const lastSeen = new Date().toISOString();
      const updates = [
        { user_id: 'dan', status: 'online' },
        { user_id: 'eve', status: 'away', status_text: 'lunch' },
        { user_id: 'dan', status: 'offline', last_seen: lastSeen },
      ];
      expect((await call(auth.url, 'PUT', '/users/status', { updates })).status).to.equal(204);
      expect(auth.statusHistory.filter((s) => ['dan', 'eve'].includes(s.user_id)).map((s) => `${s.user_id} ${s.status}`)).to.deep.equal([
        'dan online',
        'eve away',
        'dan offline',
      ]);
      expect((await call(auth.url, 'GET', '/users/dan/status')).body).to.include({ status: 'offline', last_seen: lastSeen });

      const before = auth.statusHistory.length;
      const bad = await call(auth.url, 'PUT', '/users/status', { updates: [{ user_id: 'dan', status: 'online' }, { user_id: 'no spaces', status: 'online' }] });
      expect(bad.status).to.equal(400);
      expect(auth.statusHistory).to.have.length(before);
    });

    it('answers 404 on PUT /users/status when started without it', async () => {
      const bare = await startAuthService({ jwtSecret: SECRET, statusBatchEndpoint: false });
      try {
        expect((await call(bare.url, 'PUT', '/users/status', { updates: [] })).status).to.equal(404);
        expect((await call(bare.url, 'PUT', '/users/dan/status', { status: 'online' })).status).to.equal(204);
      } finally {
        await bare.close();
      }
    });
  });

  describe('fault injection and request log', () => {
    it('answers 503 with Retry-After once, then normally', async () => {
      chat.faults.add({ status: 503, headers: { 'Retry-After': '1' }, body: { error: { code: 'DOWN' } }, times: 1 });
      const failed = await call(chat.url, 'GET', '/rooms/r/members/u');
      expect(failed.status).to.equal(503);
      expect(failed.headers.get('retry-after')).to.equal('1');
      expect(failed.body).to.deep.equal({ error: { code: 'DOWN' } });
      expect((await call(chat.url, 'GET', '/rooms/r/members/u')).status).to.equal(404);
    });

    it('applies a fault only to matching requests', async () => {
      auth.faults.add({ status: 500, match: { method: 'put', path: /^\/users\// } });
      expect((await call(auth.url, 'PUT', '/users/u1/status', { status: 'online' })).status).to.equal(500);
      expect((await call(auth.url, 'GET', '/users/u1/status')).status).to.equal(404);
    });

    it('delays and then runs the real handler', async () => {
      chat.faults.add({ delayMs: 150, times: 1 });
      const started = Date.now();
      const res = await post('/messages', direct());
      expect(Date.now() - started).to.be.at.least(140);
      expect(res.status).to.equal(201);
    });

    it('holds a hanging request until clear() releases it', async () => {
      chat.faults.add({ hang: true });
      const before = chat.requests.length;
      const pending = fetch(`${chat.url}/rooms/r/members/u`).then(
        () => 'answered',
        () => 'failed',
      );
      await waitFor(() => chat.requests.length > before);
      const early = await Promise.race([pending, new Promise((r) => setTimeout(() => r('still hanging'), 100))]);
      expect(early).to.equal('still hanging');
      chat.faults.clear();
      expect(await pending).to.equal('failed');
      expect((await call(chat.url, 'GET', '/health')).status).to.equal(200);
    });

    it('release() removes the faults and lets held requests go on to the real handler', async () => {
      chat.faults.add({ hang: true, match: { path: /^\/messages$/ } });
      const pending = post('/messages', direct({ content: 'held' }));
      await waitFor(() => chat.faults.holding === 1);
      chat.faults.release();
      expect((await pending).status).to.equal(201);
      expect(chat.faults.holding).to.equal(0);
      expect((await post('/messages', direct({ content: 'after' }))).status, 'no fault left').to.equal(201);
    });

    it('destroys the socket without an answer', async () => {
      chat.faults.add({ destroy: true, times: 1 });
      const outcome = await fetch(`${chat.url}/health`).then(() => 'answered', () => 'failed');
      expect(outcome).to.equal('failed');
    });

    it('closes a server that holds a hanging request', async () => {
      const svc = await startChatService();
      svc.faults.add({ hang: true });
      const pending = fetch(`${svc.url}/health`).catch(() => 'failed');
      await waitFor(() => svc.requests.length > 0);
      await svc.close();
      expect(await pending).to.equal('failed');
    });

    it('records method, path, headers and body', async () => {
      await post('/messages', direct({ content: 'logged' }), { 'X-Request-Id': 'req-42' });
      const seen = chat.requests.at(-1);
      expect(seen).to.include({ method: 'POST', path: '/messages' });
      expect(seen?.headers['x-request-id']).to.equal('req-42');
      expect(seen?.body).to.deep.include({ content: 'logged' });
    });
  });

  describe('service token', () => {
    it('answers 401 without the right bearer token, except on /health', async () => {
      const svc = await startChatService({ serviceToken: 's3cret' });
      try {
        const path = '/rooms/r/members/u';
        expect((await call(svc.url, 'GET', path)).status).to.equal(401);
        expect((await call(svc.url, 'GET', path, undefined, { Authorization: 'Bearer wrong' })).status).to.equal(401);
        const ok = await call(svc.url, 'GET', path, undefined, { Authorization: 'Bearer s3cret' });
        expect(ok.status).to.equal(404);
        expect((await call(svc.url, 'GET', '/health')).status).to.equal(200);
      } finally {
        await svc.close();
      }
    });
  });
});

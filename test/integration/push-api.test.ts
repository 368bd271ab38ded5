import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import { startChatService } from '../../src/reference/chatService.js';
import { collect, nextEvent, request, waitFor } from '../support/events.js';
import { roundTrips, uniqueId, useStack } from '../support/scenarios.js';
import type { Stack } from '../support/stack.js';

const KEYS = ['k1', 'k2'];
const MAX_PAYLOAD_BYTES = 2048;

interface Reply {
  status: number;
  body: any;
}

interface CallOptions {
  method?: string;
  /** The X-API-Key header; `null` sends none. @default the first configured key */
  key?: string | null;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as it is, with a JSON content type (for malformed bodies). */
  raw?: string;
}

/** One call to the gateway's HTTP port; the answer's body parsed when it is JSON. */
async function call(stack: Stack, path: string, opts: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  const key = opts.key === undefined ? KEYS[0] : opts.key;
  if (key !== null) headers['x-api-key'] = key;
  const body = opts.raw ?? (opts.json === undefined ? undefined : JSON.stringify(opts.json));
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(stack.url + path, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.includes('json') && text.length > 0;
  return { status: res.status, body: isJson ? JSON.parse(text) : text };
}

/** Asserts the API's error answer. */
function expectError(reply: Reply, status: number, code: string): void {
  expect(reply.status, `status of ${JSON.stringify(reply.body)}`).to.equal(status);
  expect(reply.body.error.code).to.equal(code);
  expect(reply.body.error.message).to.be.a('string').that.is.not.empty;
}

/** Every event a socket receives from now on, as [event, payload]. */
function collectAll(socket: ClientSocket): Array<[string, unknown]> {
  const seen: Array<[string, unknown]> = [];
  socket.onAny((event: string, payload: unknown) => seen.push([event, payload]));
  return seen;
}

describe('backend push API (contract section 5)', () => {
  const stack = useStack({ PUSH_API_KEYS: KEYS.join(','), MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES), RATE_LIMIT_ENABLED: 'false' });
  const push = (json: unknown, key?: string | null) => call(stack(), '/api/v1/push', { json, key });
  /** Connects `count` sockets for one new user. */
  const connectUser = async (prefix: string, count = 1) => {
    const user = uniqueId(prefix);
    const sockets = await Promise.all(Array.from({ length: count }, () => stack().connect(user)));
    return { user, sockets };
  };

  describe('authentication', () => {
    it('answers 401 UNAUTHORIZED without an X-API-Key header or with an empty one', async () => {
      const body = { user_ids: ['anyone'], event: 'ping' };
      expectError(await push(body, null), 401, 'UNAUTHORIZED');
      expectError(await push(body, ''), 401, 'UNAUTHORIZED');
      expectError(await call(stack(), '/api/v1/stats', { key: null }), 401, 'UNAUTHORIZED');
    });

    it('answers 403 FORBIDDEN for a key that is not configured', async () => {
      for (const key of ['k3', 'k', 'k1k', 'k1,k2', 'K1']) {
        expectError(await push({ user_ids: ['anyone'], event: 'ping' }, key), 403, 'FORBIDDEN');
      }
      expectError(await call(stack(), '/api/v1/presence?user_ids=a', { key: 'wrong' }), 403, 'FORBIDDEN');
    });

    it('accepts every configured key', async () => {
      for (const key of KEYS) {
        const reply = await push({ user_ids: ['anyone'], event: 'ping' }, key);
        expect(reply.status, `key ${key}`).to.equal(202);
      }
    });

    it('checks the key before reading the body', async () => {
      expectError(await call(stack(), '/api/v1/push', { raw: '{not json', key: 'wrong' }), 403, 'FORBIDDEN');
      const huge = { user_ids: ['anyone'], event: 'ping', data: 'x'.repeat(MAX_PAYLOAD_BYTES * 2) };
      expectError(await call(stack(), '/api/v1/push', { json: huge, key: null }), 401, 'UNAUTHORIZED');
    });

    it('keeps /health, /ready and /metrics open without a key', async () => {
      for (const path of ['/health', '/ready', '/metrics']) {
        const reply = await call(stack(), path, { key: null });
        expect(reply.status, path).to.equal(200);
      }
    });
  });

  describe('POST /api/v1/push', () => {
    it('delivers the exact event and data to every socket of each target user, and to nobody else', async () => {
      const alice = await connectUser('alice', 2);
      const bob = await connectUser('bob');
      const carol = await connectUser('carol');
      const carolSaw = collectAll(carol.sockets[0]);
      const data = { order_id: 'o-1', items: [1, 'two', { three: null }], ok: true };
      const arrivals = [...alice.sockets, ...bob.sockets].map((s) => nextEvent(s, 'order:shipped.v1'));
      const reply = await push({ user_ids: [alice.user, bob.user], event: 'order:shipped.v1', data });
      expect(reply.status).to.equal(202);
      for (const payload of await Promise.all(arrivals)) expect(payload).to.deep.equal(data);
      await roundTrips(...carol.sockets);
      expect(carolSaw).to.deep.equal([]);
    });

    it('sends null when the push carries no data', async () => {
      const dave = await connectUser('dave');
      const arrival = nextEvent(dave.sockets[0], 'nudge');
      expect((await push({ user_ids: [dave.user], event: 'nudge' })).status).to.equal(202);
      expect(await arrival).to.equal(null);
    });

    it('delivers to the room members who joined the room, not to members who did not', async () => {
      const room = uniqueId('room');
      const [joined1, joined2, notJoined] = await Promise.all([connectUser('erin'), connectUser('fred'), connectUser('gina')]);
      stack().chat.addRoom(room, [joined1.user, joined2.user, notJoined.user]);
      for (const member of [joined1, joined2]) {
        expect((await request(member.sockets[0], 'join_room', { room_id: room })).ok).to.equal(true);
      }
      const notJoinedSaw = collectAll(notJoined.sockets[0]);
      const arrivals = [joined1, joined2].map((m) => nextEvent(m.sockets[0], 'room:announcement'));
      const reply = await push({ room_ids: [room], event: 'room:announcement', data: { text: 'welcome' } });
      expect(reply.status).to.equal(202);
      expect(reply.body).to.deep.equal({ accepted: true, online_users: [] });
      for (const payload of await Promise.all(arrivals)) expect(payload).to.deep.equal({ text: 'welcome' });
      await roundTrips(...notJoined.sockets);
      expect(notJoinedSaw).to.deep.equal([]);
    });

    it('sends once to a socket that is both a target user and in a target room', async () => {
      const room = uniqueId('room');
      const hank = await connectUser('hank');
      stack().chat.addRoom(room, [hank.user]);
      expect((await request(hank.sockets[0], 'join_room', { room_id: room })).ok).to.equal(true);
      const seen = collect(hank.sockets[0], 'counter');
      expect((await push({ user_ids: [hank.user], room_ids: [room], event: 'counter', data: 1 })).status).to.equal(202);
      await roundTrips(...hank.sockets);
      expect(seen).to.deep.equal([1]);
    });

    it('answers 202 with exactly the online target users in online_users', async () => {
      const ivy = await connectUser('ivy');
      const jack = await connectUser('jack', 2);
      const offline = uniqueId('offline');
      const reply = await push({ user_ids: [ivy.user, offline, jack.user, ivy.user], event: 'ping' });
      expect(reply.status).to.equal(202);
      expect(reply.body).to.deep.equal({ accepted: true, online_users: [ivy.user, jack.user] });
      const nobody = await push({ user_ids: [uniqueId('offline')], event: 'ping' });
      expect(nobody.body).to.deep.equal({ accepted: true, online_users: [] });
    });

    it('accepts message events and names at the edges of the pattern', async () => {
      const kate = await connectUser('kate');
      const names = ['receive_message', 'message_deleted', 'a', `a${'b'.repeat(63)}`, 'x0_:.-'];
      const arrivals = names.map((name) => nextEvent(kate.sockets[0], name));
      for (const event of names) {
        expect((await push({ user_ids: [kate.user], event, data: { event } })).status, event).to.equal(202);
      }
      expect(await Promise.all(arrivals)).to.deep.equal(names.map((event) => ({ event })));
    });

    it('rejects bad bodies with 400 VALIDATION_FAILED and sends nothing', async () => {
      const leo = await connectUser('leo');
      const saw = collectAll(leo.sockets[0]);
      const to = { user_ids: [leo.user] };
      const bad: Array<[string, CallOptions]> = [
        ['no targets', { json: { event: 'ping' } }],
        ['empty target lists', { json: { user_ids: [], room_ids: [], event: 'ping' } }],
        ['no event', { json: { ...to } }],
        ['an upper-case event', { json: { ...to, event: 'Bad' } }],
        ['an event starting with a digit', { json: { ...to, event: '1x' } }],
        ['an event of 65 characters', { json: { ...to, event: `a${'b'.repeat(64)}` } }],
        ['an empty event', { json: { ...to, event: '' } }],
        ['an event with a space', { json: { ...to, event: 'a b' } }],
        ['a non-string event', { json: { ...to, event: 42 } }],
        ...['connect', 'connect_error', 'disconnect', 'disconnecting', 'error', 'server_shutdown', 'connected', 'online_users', 'user_connected', 'user_disconnected', 'message_sent'].map(
          (event): [string, CallOptions] => [`reserved event ${event}`, { json: { ...to, event } }],
        ),
        ['user_ids not an array', { json: { user_ids: leo.user, event: 'ping' } }],
        ['room_ids not an array', { json: { room_ids: 'r', event: 'ping' } }],
        ['an empty user id', { json: { user_ids: [leo.user, ''], event: 'ping' } }],
        ['a ".." user id', { json: { user_ids: [leo.user, '..'], event: 'ping' } }],
        ['a user id over 128 characters', { json: { user_ids: [leo.user, 'u'.repeat(129)], event: 'ping' } }],
        ['a non-string room id', { json: { room_ids: [7], event: 'ping' } }],
        ['a JSON array', { json: [to] }],
        ['invalid JSON', { raw: '{"user_ids": ["x"], "event": ' }],
        ['no body', { method: 'POST' }],
      ];
      for (const [what, opts] of bad) {
        const reply = await call(stack(), '/api/v1/push', opts);
        expect(reply.status, what).to.equal(400);
        expect(reply.body.error?.code, what).to.equal('VALIDATION_FAILED');
        expect(reply.body.error.message, what).to.be.a('string').that.is.not.empty;
      }
      await roundTrips(...leo.sockets);
      expect(saw).to.deep.equal([]);
    });

    it('answers 413 PAYLOAD_TOO_LARGE for a body over MAX_PAYLOAD_BYTES and accepts one under it', async () => {
      const mia = await connectUser('mia');
      const saw = collect(mia.sockets[0], 'blob');
      const sized = (bytes: number) => {
        const body = { user_ids: [mia.user], event: 'blob', data: '' };
        return { ...body, data: 'x'.repeat(bytes - JSON.stringify(body).length) };
      };
      expectError(await push(sized(MAX_PAYLOAD_BYTES + 1)), 413, 'PAYLOAD_TOO_LARGE');
      expect((await push(sized(MAX_PAYLOAD_BYTES))).status).to.equal(202);
      await roundTrips(...mia.sockets);
      expect(saw).to.deep.equal([sized(MAX_PAYLOAD_BYTES).data]);
    });
  });

  describe('POST /api/v1/broadcast', () => {
    it('delivers the event and data to every connected socket', async () => {
      const users = await Promise.all([connectUser('nina', 2), connectUser('otto'), connectUser('pia')]);
      const sockets = users.flatMap((u) => u.sockets);
      const arrivals = sockets.map((s) => nextEvent(s, 'maintenance'));
      const reply = await call(stack(), '/api/v1/broadcast', { json: { event: 'maintenance', data: { at: '2030-01-01T00:00:00.000Z' } } });
      expect(reply.status).to.equal(202);
      expect(reply.body).to.deep.equal({ accepted: true });
      for (const payload of await Promise.all(arrivals)) expect(payload).to.deep.equal({ at: '2030-01-01T00:00:00.000Z' });
    });

    it('rejects reserved or malformed event names with 400 and sends nothing', async () => {
      const quinn = await connectUser('quinn');
      const saw = collectAll(quinn.sockets[0]);
      for (const event of ['server_shutdown', 'error', 'Bad', undefined]) {
        expectError(await call(stack(), '/api/v1/broadcast', { json: { event, data: 1 } }), 400, 'VALIDATION_FAILED');
      }
      await roundTrips(...quinn.sockets);
      expect(saw).to.deep.equal([]);
    });
  });

  describe('POST /api/v1/users/:user_id/disconnect', () => {
    /** Resolves with what the socket saw between the `error` event and its disconnection. */
    const kicked = (socket: ClientSocket) =>
      Promise.all([nextEvent(socket, 'error'), nextEvent(socket, 'disconnect')]).then(([error, reason]) => ({ error, reason }));
    const disconnect = (userId: string, json?: unknown) =>
      call(stack(), `/api/v1/users/${encodeURIComponent(userId)}/disconnect`, { method: 'POST', json });

    it('disconnects every socket of the user, telling each why, and leaves other users connected', async () => {
      const rita = await connectUser('rita', 2);
      const sam = await connectUser('sam');
      const outcomes = rita.sockets.map(kicked);
      const reply = await disconnect(rita.user, { reason: 'account suspended' });
      expect(reply.status).to.equal(200);
      expect(reply.body).to.deep.equal({ disconnected: 2 });
      for (const { error, reason } of await Promise.all(outcomes)) {
        expect(error).to.deep.equal({ code: 'FORBIDDEN', message: 'account suspended' });
        expect(reason).to.equal('io server disconnect');
      }
      expect(sam.sockets[0].connected).to.equal(true);
      await roundTrips(...sam.sockets);
      await waitFor(async () => (await call(stack(), `/api/v1/presence?user_ids=${rita.user}`)).body.online.length === 0);
    });

    it('uses a default message without a reason, and answers 0 for a user without sockets', async () => {
      const tom = await connectUser('tom');
      const outcome = kicked(tom.sockets[0]);
      const reply = await disconnect(tom.user);
      expect(reply.body).to.deep.equal({ disconnected: 1 });
      expect((await outcome).error).to.deep.equal({ code: 'FORBIDDEN', message: 'disconnected by the server' });
      expect((await disconnect(uniqueId('nobody'), {})).body).to.deep.equal({ disconnected: 0 });
    });

    it('rejects a reason over 200 characters and keeps the sockets', async () => {
      const uma = await connectUser('uma');
      expectError(await disconnect(uma.user, { reason: 'r'.repeat(201) }), 400, 'VALIDATION_FAILED');
      expectError(await disconnect(uma.user, { reason: 5 }), 400, 'VALIDATION_FAILED');
      await roundTrips(...uma.sockets);
      expect(uma.sockets[0].connected).to.equal(true);
    });
  });

  describe('GET /api/v1/presence', () => {
    it('answers the online subset of user_ids, in the given order', async () => {
      const vera = await connectUser('vera');
      const walt = await connectUser('walt', 2);
      const offline = uniqueId('offline');
      const reply = await call(stack(), `/api/v1/presence?user_ids=${walt.user},${offline},${vera.user}`);
      expect(reply.status).to.equal(200);
      expect(reply.body).to.deep.equal({ online: [walt.user, vera.user] });
    });

    it('answers 400 VALIDATION_FAILED without user_ids, with an empty list or with more than 1000', async () => {
      const many = Array.from({ length: 1001 }, (_, i) => `u${i}`).join(',');
      for (const query of ['', '?user_ids=', `?user_ids=${many}`]) {
        expectError(await call(stack(), `/api/v1/presence${query}`), 400, 'VALIDATION_FAILED');
      }
    });
  });

  describe('GET /api/v1/stats', () => {
    it('answers counts, breaker states and the instance id', async () => {
      const xena = await connectUser('xena');
      const reply = await call(stack(), '/api/v1/stats');
      const health = await call(stack(), '/health', { key: null });
      expect(reply.status).to.equal(200);
      expect(reply.body.instance_id).to.be.a('string').that.equals(health.body.instance_id);
      expect(reply.body.breakers).to.deep.equal({ chat: 'closed', auth: 'closed' });
      expect(reply.body.connections).to.be.a('number').that.is.at.least(xena.sockets.length);
      expect(reply.body.online_users).to.be.a('number').that.is.at.least(1);
    });
  });

  describe("the reference chat-service's POST /v1/messages", () => {
    type PushingChat = Awaited<ReturnType<typeof startChatService>>;
    let backend: PushingChat;
    before(async () => {
      backend = await startChatService({ push: { url: stack().url, apiKey: KEYS[0] } });
    });
    after(() => backend.close());
    const postMessage = async (body: Record<string, unknown>) => {
      const res = await fetch(`${backend.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'from the backend', message_type: 'text', ...body }),
      });
      return { status: res.status, body: (await res.json()) as any };
    };

    it("pushes a direct message to the receiver's and the sender's sockets as receive_message", async () => {
      const yara = await connectUser('yara');
      const zack = await connectUser('zack', 2);
      const arrivals = [...zack.sockets, ...yara.sockets].map((s) => nextEvent(s, 'receive_message'));
      const reply = await postMessage({ sender_id: yara.user, receiver_id: zack.user });
      expect(reply.status).to.equal(201);
      expect(reply.body.pushed).to.equal(true);
      expect(reply.body.message).to.include({ sender_id: yara.user, receiver_id: zack.user, content: 'from the backend' });
      for (const payload of await Promise.all(arrivals)) expect(payload).to.deep.equal({ message: reply.body.message });
      expect(backend.messages.has(reply.body.message.message_id)).to.equal(true);
    });

    it('pushes a room message to the members who joined the room', async () => {
      const room = uniqueId('room');
      const [sender, member] = await Promise.all([connectUser('abby'), connectUser('ben')]);
      stack().chat.addRoom(room, [sender.user, member.user]);
      backend.addRoom(room, [sender.user, member.user]);
      expect((await request(member.sockets[0], 'join_room', { room_id: room })).ok).to.equal(true);
      const arrival = nextEvent(member.sockets[0], 'receive_message');
      const reply = await postMessage({ sender_id: sender.user, room_id: room });
      expect(reply.body.pushed).to.equal(true);
      expect(await arrival).to.deep.equal({ message: reply.body.message });
    });

    it('stores the message but answers pushed: false when the gateway refuses the key', async () => {
      const refused = await startChatService({ push: { url: stack().url, apiKey: 'not-a-key' } });
      try {
        const res = await fetch(`${refused.url}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sender_id: 'cleo', receiver_id: 'dan', content: 'hi', message_type: 'text' }),
        });
        const body = (await res.json()) as any;
        expect(res.status).to.equal(201);
        expect(body.pushed).to.equal(false);
        expect(refused.messages.has(body.message.message_id)).to.equal(true);
      } finally {
        await refused.close();
      }
    });
  });
});

describe('backend push API with the default MAX_PAYLOAD_BYTES', () => {
  const stack = useStack({ PUSH_API_KEYS: KEYS.join(','), RATE_LIMIT_ENABLED: 'false' });

  it('accepts 1000 user ids and rejects 1001 with 400 VALIDATION_FAILED', async () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
    const accepted = await call(stack(), '/api/v1/push', { json: { user_ids: ids(1000), event: 'ping' } });
    expect(accepted.status).to.equal(202);
    const refused = await call(stack(), '/api/v1/push', { json: { user_ids: ids(1001), event: 'ping' } });
    expectError(refused, 400, 'VALIDATION_FAILED');
    expectError(await call(stack(), '/api/v1/push', { json: { room_ids: ids(1001), event: 'ping' } }), 400, 'VALIDATION_FAILED');
  });
});

describe('backend push API without PUSH_API_KEYS', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false' });

  it('refuses every request: 401 without a key, 403 with any key', async () => {
    const json = { user_ids: ['anyone'], event: 'ping' };
    expectError(await call(stack(), '/api/v1/push', { json, key: null }), 401, 'UNAUTHORIZED');
    for (const key of ['k1', 'k2', 'undefined']) {
      expectError(await call(stack(), '/api/v1/push', { json, key }), 403, 'FORBIDDEN');
    }
    expectError(await call(stack(), '/api/v1/stats', { key: 'k1' }), 403, 'FORBIDDEN');
  });
});

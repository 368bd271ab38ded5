import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import type { RecordedRequest } from '../../src/reference/serviceKit.js';
import { MESSAGE_WRITES, messageWrites } from '../support/chatWrites.js';
import { startStack, type Stack } from '../support/stack.js';
import { collect, nextEvent, request } from '../support/events.js';

/** Small limits so the rules of contract section 3 are cheap to reach. */
const MAX_MESSAGE_LENGTH = 10;
const MAX_PAYLOAD_BYTES = 2048;
const CHAT_SERVICE_RETRIES = 2;
const BASE_ENV = {
  RATE_LIMIT_ENABLED: 'false',
  MAX_MESSAGE_LENGTH: String(MAX_MESSAGE_LENGTH),
  MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES),
  CHAT_SERVICE_RETRIES: String(CHAT_SERVICE_RETRIES),
  CHAT_SERVICE_TIMEOUT_MS: '1000',
  // Failing tests must not open the breaker for the tests after them.
  BREAKER_FAILURE_THRESHOLD: '100',
  BREAKER_HALF_OPEN_AFTER_MS: '300',
  // Every room event asks the chat-service, so each test sees its own membership calls.
  MEMBERSHIP_CACHE_TTL_MS: '0',
};

let counter = 0;
/** A fresh id, so client_msg_ids and rooms never collide across tests sharing one chat-service. */
const unique = (prefix: string) => `${prefix}-${++counter}-${Date.now().toString(36)}`;

/**
 * One stack for a describe block: started before its tests, stopped after them; sockets opened
 * with `connect` are closed and the chat-service's log and faults reset between tests.
 */
function useStack(env: Record<string, string> = {}) {
  const ctx = {} as { stack: Stack; connect(userId: string): Promise<ClientSocket> };
  const open: ClientSocket[] = [];
  before(async () => {
    ctx.stack = await startStack({ ...BASE_ENV, ...env });
  });
  beforeEach(() => {
    ctx.stack.chat.requests.length = 0;
    ctx.stack.chat.faults.clear();
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.disconnect();
  });
  after(() => ctx.stack?.stop());
  ctx.connect = async (userId) => {
    const socket = await ctx.stack.connect(userId);
    open.push(socket);
    return socket;
  };
  return ctx;
}

/**
 * Resolves once every event the gateway emitted to these sockets before now has arrived: each
 * socket asks the gateway something and, frames on one connection being ordered, its answer
 * comes after anything sent to it earlier. Lets a test assert "no event" without guessing a delay.
 */
async function settled(...sockets: ClientSocket[]): Promise<void> {
  await Promise.all(sockets.map((s) => request(s, 'get_online_users', {})));
}

/** The chat-service requests with this method whose path matches. */
function calls(stack: Stack, method: string, path: string | RegExp): RecordedRequest[] {
  return stack.chat.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));
}

/** A failed ack with this code, as contract section 2 shapes it. */
function expectFailure(ack: any, code: string, retryable = false): void {
  expect(ack, JSON.stringify(ack)).to.include({ ok: false });
  expect(ack.error).to.include({ code, retryable });
  expect(ack.error.message).to.be.a('string');
}

describe('messages', function () {
  this.timeout(10_000);

  describe('direct messages', () => {
    const t = useStack();

    it('stores the message and acks the sender with what the chat-service stored', async () => {
      const alice = await t.connect('alice');
      await t.connect('bob');
      const cid = unique('c');
      const ack = await request(alice, 'send_message', { receiver_id: 'bob', content: 'hi bob', client_msg_id: cid });

      expect(ack.ok).to.equal(true);
      expect(ack.message).to.include({ sender_id: 'alice', receiver_id: 'bob', content: 'hi bob', message_type: 'text', client_msg_id: cid });
      expect(ack.message.message_id).to.be.a('string').and.not.empty;
      expect(new Date(ack.message.created_at).toISOString()).to.equal(ack.message.created_at);
      const stored = t.stack.chat.messages.get(ack.message.message_id);
      expect(stored, 'stored by the chat-service').to.exist;
      expect(ack.message).to.include({ message_id: stored!.message_id, created_at: stored!.created_at });
    });

    it('asks the chat-service to store the message with its body and idempotency key', async () => {
      const alice = await t.connect('alice');
      const cid = unique('c');
      await request(alice, 'send_message', { receiver_id: 'bob', content: 'hello', client_msg_id: cid });

      const writes = messageWrites(t.stack.chat);
      expect(writes).to.have.length(1);
      expect(writes[0].body).to.deep.include({ sender_id: 'alice', receiver_id: 'bob', content: 'hello', message_type: 'text', client_msg_id: cid });
      expect(writes[0].idempotencyKey).to.equal(`alice:${cid}`);
      expect(writes[0].request.headers['x-request-id']).to.be.a('string').and.not.empty;
    });

    it("relays to every device of the receiver and the sender's other devices, not to the sending socket", async () => {
      const [alice1, alice2, bob1, bob2, carol] = await Promise.all(['alice', 'alice', 'bob', 'bob', 'carol'].map((u) => t.connect(u)));
      const seen = new Map([alice1, alice2, bob1, bob2, carol].map((s) => [s, collect(s, 'receive_message')]));
      const sent = nextEvent(alice1, 'message_sent');
      const cid = unique('c');
      const ack = await request(alice1, 'send_message', { receiver_id: 'bob', content: 'to all', client_msg_id: cid });
      expect(ack.ok).to.equal(true);
      await settled(alice1, alice2, bob1, bob2, carol);

      for (const s of [alice2, bob1, bob2]) expect(seen.get(s)).to.deep.equal([{ message: ack.message }]);
      expect(seen.get(alice1), 'the sending socket').to.deep.equal([]);
      expect(seen.get(carol), 'a bystander').to.deep.equal([]);
      expect(await sent).to.deep.equal({ message: ack.message, client_msg_id: cid });
    });

    it('defaults message_type to "text" and keeps an allowed one', async () => {
      const alice = await t.connect('alice');
      const plain = await request(alice, 'send_message', { receiver_id: 'bob', content: 'plain' });
      const image = await request(alice, 'send_message', { receiver_id: 'bob', content: 'img', message_type: 'image' });
      expect(plain.message.message_type).to.equal('text');
      expect(image.message.message_type).to.equal('image');
    });

    it('persists before relaying: when the chat-service keeps failing the sender gets SERVICE_UNAVAILABLE and nobody sees the message', async () => {
      const [alice1, alice2, bob] = await Promise.all([t.connect('alice'), t.connect('alice'), t.connect('bob')]);
      const relayed = [alice2, bob].map((s) => collect(s, 'receive_message'));
      const sent = collect(alice1, 'message_sent');
      t.stack.chat.faults.add({ status: 500, match: MESSAGE_WRITES });
      const storedBefore = t.stack.chat.messages.size;

      const ack = await request(alice1, 'send_message', { receiver_id: 'bob', content: 'lost', client_msg_id: unique('c') });
      expectFailure(ack, 'SERVICE_UNAVAILABLE', true);
      await settled(alice1, alice2, bob);

      expect(relayed).to.deep.equal([[], []]);
      expect(sent).to.deep.equal([]);
      expect(t.stack.chat.messages.size).to.equal(storedBefore);
    });

    it('retries a keyed message write CHAT_SERVICE_RETRIES times, with the same key, before giving up', async () => {
      const alice = await t.connect('alice');
      const cid = unique('c');
      t.stack.chat.faults.add({ status: 500, match: MESSAGE_WRITES });

      expectFailure(await request(alice, 'send_message', { receiver_id: 'bob', content: 'lost', client_msg_id: cid }), 'SERVICE_UNAVAILABLE', true);
      const attempts = messageWrites(t.stack.chat);
      expect(attempts, 'first attempt and the retries').to.have.length(1 + CHAT_SERVICE_RETRIES);
      expect(attempts.map((w) => w.idempotencyKey)).to.deep.equal(attempts.map(() => `alice:${cid}`));
    });

    it('stores one message when the same client_msg_id is sent twice', async () => {
      const alice = await t.connect('alice');
      const cid = unique('c');
      const before = t.stack.chat.messages.size;
      const first = await request(alice, 'send_message', { receiver_id: 'bob', content: 'once', client_msg_id: cid });
      const again = await request(alice, 'send_message', { receiver_id: 'bob', content: 'once', client_msg_id: cid });

      expect(first.ok).to.equal(true);
      expect(again.ok).to.equal(true);
      expect(again.message.message_id).to.equal(first.message.message_id);
      expect(t.stack.chat.messages.size).to.equal(before + 1);
      expect(messageWrites(t.stack.chat).map((w) => w.idempotencyKey)).to.deep.equal([`alice:${cid}`, `alice:${cid}`]);
    });
  });

  describe('direct messages with CHAT_BATCH_ENDPOINTS=false', () => {
    const t = useStack({ CHAT_BATCH_ENDPOINTS: 'false' });

    it('calls POST /messages with the body, the idempotency key and the acting user', async () => {
      const alice = await t.connect('alice');
      const cid = unique('c');
      await request(alice, 'send_message', { receiver_id: 'bob', content: 'hello', client_msg_id: cid });

      const posts = calls(t.stack, 'POST', '/messages');
      expect(posts).to.have.length(1);
      expect(posts[0].body).to.deep.include({ sender_id: 'alice', receiver_id: 'bob', content: 'hello', message_type: 'text', client_msg_id: cid });
      expect(posts[0].headers['idempotency-key']).to.equal(`alice:${cid}`);
      expect(posts[0].headers['x-user-id']).to.equal('alice');
      expect(posts[0].headers['x-request-id']).to.be.a('string').and.not.empty;
    });
  });

  describe('room messages', () => {
    const t = useStack();

    /** A room of alice and bob with bob's socket and alice's sending socket joined; alice2 and dave not. */
    async function roomScene() {
      const room = unique('room');
      t.stack.chat.addRoom(room, ['alice', 'bob']);
      const [alice1, alice2, bob, dave] = await Promise.all(['alice', 'alice', 'bob', 'dave'].map((u) => t.connect(u)));
      for (const s of [alice1, bob]) expect(await request(s, 'join_room', { room_id: room })).to.deep.equal({ ok: true, room_id: room });
      t.stack.chat.requests.length = 0;
      return { room, alice1, alice2, bob, dave };
    }

    for (const event of ['send_message', 'send_group_message']) {
      it(`${event} {room_id} from a member reaches the joined members and the sender's other devices`, async () => {
        const { room, alice1, alice2, bob, dave } = await roomScene();
        const seen = [alice1, alice2, bob, dave].map((s) => collect(s, 'receive_message'));
        const ack = await request(alice1, event, { room_id: room, content: 'hi room' });
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
        expect(ack.message).to.include({ sender_id: 'alice', room_id: room, content: 'hi room' });
        await settled(alice1, alice2, bob, dave);

        const [toAlice1, toAlice2, toBob, toDave] = seen;
        expect(toBob).to.deep.equal([{ message: ack.message }]);
        expect(toAlice2).to.deep.equal([{ message: ack.message }]);
        expect(toAlice1, 'the sending socket').to.deep.equal([]);
        expect(toDave, 'a non-member').to.deep.equal([]);
        expect(calls(t.stack, 'GET', `/rooms/${room}/members/alice`), 'membership asked').to.have.length.at.least(1);
        expect(messageWrites(t.stack.chat)[0].body).to.deep.include({ sender_id: 'alice', room_id: room });
      });

      it(`${event} {room_id} from a non-member is FORBIDDEN and never stored`, async () => {
        const { room, bob } = await roomScene();
        const mallory = await t.connect('mallory');
        const seen = collect(bob, 'receive_message');
        const ack = await request(mallory, event, { room_id: room, content: 'let me in' });
        expectFailure(ack, 'FORBIDDEN');
        await settled(bob);

        expect(seen).to.deep.equal([]);
        expect(calls(t.stack, 'GET', `/rooms/${room}/members/mallory`)).to.have.length.at.least(1);
        expect(messageWrites(t.stack.chat)).to.deep.equal([]);
      });
    }
  });

  describe('input validation', () => {
    const t = useStack();
    const valid = { receiver_id: 'bob', content: 'hi' };
    const cases: Array<[string, unknown, string?]> = [
      ['empty content', { ...valid, content: '' }],
      ['whitespace-only content', { ...valid, content: ' \t\r\n ' }],
      [`content over MAX_MESSAGE_LENGTH (${MAX_MESSAGE_LENGTH})`, { ...valid, content: 'x'.repeat(MAX_MESSAGE_LENGTH + 1) }],
      ['both receiver_id and room_id', { ...valid, room_id: 'r1' }],
      ['neither receiver_id nor room_id', { content: 'hi' }],
      ['a message_type that is not allowed', { ...valid, message_type: 'sticker' }],
      ['a client_msg_id over 64 characters', { ...valid, client_msg_id: 'c'.repeat(65) }],
      ['a client_msg_id holding half of a UTF-16 pair', { ...valid, client_msg_id: 'c\ud800' }],
      ['a string payload', 'hello'],
      ['a number payload', 42],
      ['an array payload', [valid]],
      ['a null payload', null],
      ['no payload at all', undefined],
      ['content that is a number', { ...valid, content: 12345 }],
      ['a receiver_id over 128 characters', { ...valid, receiver_id: 'b'.repeat(129) }],
      ['an empty receiver_id', { ...valid, receiver_id: '' }],
      ['send_group_message without room_id', valid, 'send_group_message'],
      ['send_group_message with a receiver_id besides its room_id', { ...valid, room_id: 'r1' }, 'send_group_message'],
    ];

    for (const [what, payload, event = 'send_message'] of cases) {
      it(`rejects ${what} with VALIDATION_FAILED and stores nothing`, async () => {
        const alice = await t.connect('alice');
        expectFailure(await request(alice, event, payload), 'VALIDATION_FAILED');
        expect(messageWrites(t.stack.chat)).to.deep.equal([]);
      });
    }

    it('accepts the limits themselves: MAX_MESSAGE_LENGTH characters after trimming, 64-character client_msg_id, 128-character ids', async () => {
      const alice = await t.connect('alice');
      const content = `  ${'é'.repeat(MAX_MESSAGE_LENGTH)}  `;
      const ack = await request(alice, 'send_message', { receiver_id: 'b'.repeat(128), content, client_msg_id: unique('c').padEnd(64, 'x') });
      expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      expect(ack.message.content).to.equal(content);
    });

    it('answers an unknown event with an ack with VALIDATION_FAILED', async () => {
      const alice = await t.connect('alice');
      expectFailure(await request(alice, 'launch_rockets', { receiver_id: 'bob' }), 'VALIDATION_FAILED');
    });

    it('answers an unknown event without an ack with an error event naming it', async () => {
      const alice = await t.connect('alice');
      const error = nextEvent(alice, 'error');
      alice.emit('launch_rockets', { receiver_id: 'bob' });
      expect(await error).to.include({ code: 'VALIDATION_FAILED', event: 'launch_rockets' });
    });

    it('reports a failed send without an ack as an error event with the event and client_msg_id', async () => {
      const alice = await t.connect('alice');
      const error = nextEvent(alice, 'error');
      const cid = unique('c');
      alice.emit('send_message', { receiver_id: 'bob', content: '   ', client_msg_id: cid });
      const body = await error;
      expect(body).to.include({ code: 'VALIDATION_FAILED', event: 'send_message', client_msg_id: cid });
      expect(body.message).to.be.a('string');
    });

    it('refuses a sender_id or user_id other than the token user with FORBIDDEN', async () => {
      const alice = await t.connect('alice');
      expectFailure(await request(alice, 'send_message', { ...valid, sender_id: 'mallory' }), 'FORBIDDEN');
      expectFailure(await request(alice, 'send_message', { ...valid, user_id: 'mallory' }), 'FORBIDDEN');
      expect(messageWrites(t.stack.chat)).to.deep.equal([]);
    });

    it('accepts a sender_id equal to the token user and sends as the token user', async () => {
      const alice = await t.connect('alice');
      const ack = await request(alice, 'send_message', { ...valid, sender_id: 'alice' });
      expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      expect(ack.message.sender_id).to.equal('alice');
      expect(messageWrites(t.stack.chat)[0].body.sender_id).to.equal('alice');
    });

    it('answers a frame over MAX_PAYLOAD_BYTES with PAYLOAD_TOO_LARGE and keeps the socket usable', async () => {
      const alice = await t.connect('alice');
      const bob = await t.connect('bob');
      const padding = 'p'.repeat(MAX_PAYLOAD_BYTES + 900); // a frame of about 3000 bytes
      expectFailure(await request(alice, 'send_message', { ...valid, metadata: { padding } }), 'PAYLOAD_TOO_LARGE');
      expect(messageWrites(t.stack.chat)).to.deep.equal([]);

      const received = nextEvent(bob, 'receive_message');
      const ack = await request(alice, 'send_message', { ...valid, content: 'after' });
      expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      expect((await received).message.content).to.equal('after');
    });

    it('answers an oversized frame of an unknown event once, with PAYLOAD_TOO_LARGE', async () => {
      const alice = await t.connect('alice');
      const errors: Array<{ code: string; event: string }> = [];
      alice.on('error', (e: { code: string; event: string }) => errors.push(e));
      alice.emit('launch_rockets', { padding: 'p'.repeat(MAX_PAYLOAD_BYTES + 900) });
      // Replies leave in order: once a later event is answered, every reply to this one is in.
      expect((await request(alice, 'send_message', valid)).ok).to.equal(true);
      expect(errors.map((e) => [e.code, e.event])).to.deep.equal([['PAYLOAD_TOO_LARGE', 'launch_rockets']]);
    });

    it('survives a frame far beyond the limit: other sockets and new clients keep working', async () => {
      const bob = await t.connect('bob');
      const big = await t.connect('alice');
      const dropped = nextEvent(big, 'disconnect');
      const answered = nextEvent(big, 'error');
      big.emit('send_message', { ...valid, metadata: { padding: 'p'.repeat(50_000) } });
      await Promise.any([dropped, answered]);
      expect(messageWrites(t.stack.chat)).to.deep.equal([]);

      const fresh = await t.connect('alice');
      const received = nextEvent(bob, 'receive_message');
      const ack = await request(fresh, 'send_message', { ...valid, content: 'still up' });
      expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      expect((await received).message.content).to.equal('still up');
    });
  });

  describe('delete_message', () => {
    const t = useStack();

    /** Alice (two devices) sent bob (one device) a message; the chat-service log starts empty. */
    async function sentMessage() {
      const [alice1, alice2, bob] = await Promise.all([t.connect('alice'), t.connect('alice'), t.connect('bob')]);
      const ack = await request(alice1, 'send_message', { receiver_id: 'bob', content: 'oops' });
      expect(ack.ok).to.equal(true);
      t.stack.chat.requests.length = 0;
      return { alice1, alice2, bob, messageId: ack.message.message_id as string };
    }

    it('lets the sender delete: ack, DELETE with the acting user, message_deleted to the participants', async () => {
      const { alice1, alice2, bob, messageId } = await sentMessage();
      const toBob = nextEvent(bob, 'message_deleted');
      const toAlice2 = nextEvent(alice2, 'message_deleted');
      const toSender = collect(alice1, 'message_deleted');

      expect(await request(alice1, 'delete_message', { message_id: messageId })).to.deep.equal({ ok: true, message_id: messageId });
      const notice = { message_id: messageId, deleted_by: 'alice', receiver_id: 'bob' };
      expect(await toBob).to.deep.equal(notice);
      expect(await toAlice2).to.deep.equal(notice);
      await settled(alice1);
      expect(toSender, 'the deleting socket has its ack').to.deep.equal([]);

      const deletes = calls(t.stack, 'DELETE', `/messages/${messageId}`);
      expect(deletes).to.have.length(1);
      expect(deletes[0].headers['x-user-id']).to.equal('alice');
      expect(deletes[0].headers['x-request-id']).to.be.a('string').and.not.empty;
      expect(t.stack.chat.messages.has(messageId)).to.equal(false);
    });

    it('refuses another user with FORBIDDEN and keeps the message', async () => {
      const { alice1, bob, messageId } = await sentMessage();
      const seen = collect(alice1, 'message_deleted');
      expectFailure(await request(bob, 'delete_message', { message_id: messageId }), 'FORBIDDEN');
      await settled(alice1);

      expect(seen).to.deep.equal([]);
      expect(t.stack.chat.messages.has(messageId)).to.equal(true);
      expect(calls(t.stack, 'DELETE', `/messages/${messageId}`)[0].headers['x-user-id']).to.equal('bob');
    });

    it('answers an unknown message id with NOT_FOUND', async () => {
      const alice = await t.connect('alice');
      expectFailure(await request(alice, 'delete_message', { message_id: 'm_does_not_exist' }), 'NOT_FOUND');
    });

    for (const messageId of ['../admin', '..%2Fadmin', 'http://x', '..', '.', 'a/../../rooms/r1/members/alice', 'x?user=alice#']) {
      it(`keeps the message id ${JSON.stringify(messageId)} inside the path it calls`, async () => {
        const alice = await t.connect('alice');
        const ack = await request(alice, 'delete_message', { message_id: messageId });
        expect(ack.ok, JSON.stringify(ack)).to.equal(false);
        expect(['NOT_FOUND', 'VALIDATION_FAILED']).to.include(ack.error.code);

        // The gateway may refuse locally (no call at all); any call it makes names exactly this message.
        for (const r of t.stack.chat.requests) {
          expect(r.method, r.path).to.equal('DELETE');
          const segment = /^\/messages\/([^/]+)$/.exec(r.path)?.[1];
          expect(segment, `called ${r.path}`).to.be.a('string');
          expect(decodeURIComponent(segment!), `called ${r.path}`).to.equal(messageId);
        }
      });
    }
  });

  describe('content as the user typed it', () => {
    const t = useStack({ MAX_MESSAGE_LENGTH: '4000' });

    it('stores and relays content with CRLF and markup verbatim', async () => {
      const alice = await t.connect('alice');
      const bob = await t.connect('bob');
      const content = '<script>alert("x")</script>\r\nline two & <b>bold</b>';
      const received = nextEvent(bob, 'receive_message');
      const ack = await request(alice, 'send_message', { receiver_id: 'bob', content });

      expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      expect(ack.message.content).to.equal(content);
      expect((await received).message.content).to.equal(content);
      expect(messageWrites(t.stack.chat)[0].body.content).to.equal(content);
      expect(t.stack.chat.messages.get(ack.message.message_id)!.content).to.equal(content);
    });
  });
});

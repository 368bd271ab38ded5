import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import { messageWrites } from '../support/chatWrites.js';
import { startCluster, type Cluster, type ClusterOptions } from '../support/cluster.js';
import { collect, connectError, request, sleep, waitFor } from '../support/events.js';
import { requireRedis } from '../support/redis.js';
import { expectIsoTime, uniqueId } from '../support/scenarios.js';

const PRESENCE_STALE_MS = 2000;
/** The maintenance period of the gateway: a heartbeat and a stale-instance sweep every staleMs/5. */
const MAINTENANCE_MS = PRESENCE_STALE_MS / 5;
const TYPING_TIMEOUT_MS = 300;
const API_KEY = 'k1';
/** Bound of every wait for an event that must come. */
const EVENT_WAIT_MS = 3000;

/** A user's socket and the user it belongs to. */
interface Client {
  user: string;
  socket: ClientSocket;
}

/** Starts a cluster before the enclosing describe's tests and stops it after them. */
function useCluster(opts: ClusterOptions): () => Cluster {
  let cluster: Cluster | undefined;
  before(async function () {
    requireRedis(this);
    cluster = await startCluster(opts);
  });
  after(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  return () => {
    if (!cluster) throw new Error('the cluster is not running (use it inside a test)');
    return cluster;
  };
}

async function connect(c: Cluster, instance: number, user: string): Promise<Client> {
  return { user, socket: await c.connect(instance, user) };
}

/** The next `event` on `socket` whose payload satisfies `match`, or a rejection after `timeoutMs`. */
function nextMatching<T = any>(socket: ClientSocket, event: string, match: (p: T) => boolean, timeoutMs = EVENT_WAIT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    const onEvent = (p: T) => {
      if (!match(p)) return;
      clearTimeout(timer);
      socket.off(event, onEvent);
      resolve(p);
    };
    const timer = setTimeout(() => {
      socket.off(event, onEvent);
      reject(new Error(`no matching '${event}' within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on(event, onEvent);
  });
}

/** Asserts an ack is `{ ok: true, ... }` and returns it. */
async function ok(ack: Promise<any>, what: string): Promise<any> {
  const body = await ack;
  expect(body, `${what} ack: ${JSON.stringify(body)}`).to.have.property('ok', true);
  return body;
}

/** The `receive_message` payloads of one message. */
const aboutMessage = (seen: Array<{ message: { message_id: string } }>, messageId: string) => seen.filter((p) => p.message.message_id === messageId);

const probers = new WeakMap<Cluster, Map<number, ClientSocket>>();

/**
 * Resolves once every event that the live instances emitted to `targets` before the call has
 * arrived: a message sent through each instance to each target user comes after them, since one
 * instance publishes over one Redis connection and another receives over one (order is kept).
 * Lets a test assert that something was received exactly once, or not at all.
 */
async function flush(c: Cluster, targets: Client[]): Promise<void> {
  const known = probers.get(c) ?? new Map<number, ClientSocket>();
  probers.set(c, known);
  for (const [i, instance] of c.instances.entries()) {
    if (!instance.alive) continue;
    if (!known.has(i)) known.set(i, await c.connect(i, `prober-${instance.id}`));
    for (const user of new Set(targets.map((t) => t.user))) {
      const marker = uniqueId(`flush via ${instance.id}`);
      const arrivals = targets.filter((t) => t.user === user).map((t) => nextMatching(t.socket, 'receive_message', (p) => p.message.content === marker));
      await ok(request(known.get(i)!, 'send_message', { receiver_id: user, content: marker }), 'flush message');
      await Promise.all(arrivals);
    }
  }
}

/** POST to the backend API of instance `i` with the configured key. */
async function api(c: Cluster, i: number, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${c.instances[i].url}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: await res.json() };
}

/** The status updates the auth-service received for `user`, as `online` / `offline`. */
const statuses = (c: Cluster, user: string) => c.auth.statusHistory.filter((s) => s.user_id === user).map((s) => s.status);

/** The online users an instance reports through `get_online_users` on `socket`. */
async function onlineAmong(socket: ClientSocket, userIds: string[]): Promise<string[]> {
  return (await ok(request(socket, 'get_online_users', { user_ids: userIds }), 'get_online_users')).users;
}

/** The chat-service's recorded requests to `method path`. */
const chatPosts = (c: Cluster, path: string, method = 'POST') => c.chat.requests.filter((r) => r.method === method && r.path === path);

describe('cluster mode: gateway processes sharing one Redis', () => {
  describe('two instances, sender on gw-0 and receiver on gw-1', () => {
    const cluster = useCluster({
      instances: 2,
      env: { TYPING_TIMEOUT_MS: String(TYPING_TIMEOUT_MS), TYPING_THROTTLE_MS: '0', PUSH_API_KEYS: API_KEY },
    });

    /** New users: Alice connected to gw-0, Bob to gw-1. */
    async function aliceOn0BobOn1() {
      const c = cluster();
      const alice = uniqueId('alice');
      const bob = uniqueId('bob');
      return { c, alice, bob, alice0: await connect(c, 0, alice), bob1: await connect(c, 1, bob) };
    }

    /** Alice on gw-0 (and her second device on gw-1) sends Bob on gw-1 a direct message. */
    async function directMessage() {
      const { c, alice, bob, alice0, bob1 } = await aliceOn0BobOn1();
      const alice1 = await connect(c, 1, alice);
      const received = new Map([alice0, alice1, bob1].map((s) => [s, collect(s.socket, 'receive_message')]));
      const sent = new Map([alice0, alice1, bob1].map((s) => [s, collect(s.socket, 'message_sent')]));
      const clientMsgId = uniqueId('cmid');
      const ack = await ok(request(alice0.socket, 'send_message', { receiver_id: bob, content: 'hello across', client_msg_id: clientMsgId }), 'send_message');
      const id = ack.message.message_id;
      await waitFor(() => aboutMessage(received.get(bob1)!, id).length > 0, EVENT_WAIT_MS, 'receive_message at bob on gw-1');
      await flush(c, [alice0, alice1, bob1]);
      return { c, alice, bob, alice0, alice1, bob1, ack, clientMsgId, received: (s: Client) => aboutMessage(received.get(s)!, id), sent: (s: Client) => sent.get(s)! };
    }

    describe('delivery across instances', () => {
      it('receive_message: a direct message reaches the receiver and the sender\'s other device on the other instance, once, after the chat-service stored it', async () => {
        const { c, alice, bob, alice0, alice1, bob1, ack, clientMsgId, received } = await directMessage();
        expect(ack.message).to.include({ sender_id: alice, receiver_id: bob, content: 'hello across', message_type: 'text', client_msg_id: clientMsgId });
        expect(received(bob1), 'bob on gw-1').to.deep.equal([{ message: ack.message }]);
        expect(received(alice1), 'alice\'s other device on gw-1').to.deep.equal([{ message: ack.message }]);
        expect(received(alice0), 'the sending socket').to.deep.equal([]);
        const stored = messageWrites(c.chat).filter((w) => w.body.sender_id === alice);
        expect(stored, 'message writes of alice').to.have.length(1);
        expect(stored[0].body).to.include({ sender_id: alice, receiver_id: bob, content: 'hello across', client_msg_id: clientMsgId });
        expect(stored[0].idempotencyKey).to.equal(`${alice}:${clientMsgId}`);
      });

      it('message_sent stays with the sending socket: no other socket on either instance gets it', async () => {
        const { alice0, alice1, bob1, ack, clientMsgId, sent } = await directMessage();
        expect(sent(alice0), 'the sending socket on gw-0').to.deep.equal([{ message: ack.message, client_msg_id: clientMsgId }]);
        expect(sent(alice1), 'alice\'s other device on gw-1').to.deep.equal([]);
        expect(sent(bob1), 'bob on gw-1').to.deep.equal([]);
      });

      it('receive_message: a room message reaches the members who joined on both instances, not the sending socket nor a non-member', async () => {
        const c = cluster();
        const room = uniqueId('room');
        const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map(uniqueId);
        c.chat.addRoom(room, [alice, bob, carol]);
        const alice0 = await connect(c, 0, alice);
        const carol0 = await connect(c, 0, carol);
        const bob1 = await connect(c, 1, bob);
        const dave1 = await connect(c, 1, dave);
        for (const member of [alice0, carol0, bob1]) await ok(request(member.socket, 'join_room', { room_id: room }), `join_room of ${member.user}`);
        const seen = new Map([alice0, carol0, bob1, dave1].map((s) => [s, collect(s.socket, 'receive_message')]));

        const ack = await ok(request(alice0.socket, 'send_message', { room_id: room, content: 'hello room' }), 'send_message');
        const id = ack.message.message_id;
        expect(ack.message).to.include({ sender_id: alice, room_id: room, content: 'hello room' });
        await waitFor(() => aboutMessage(seen.get(bob1)!, id).length > 0, EVENT_WAIT_MS, 'receive_message at bob on gw-1');
        await flush(c, [alice0, carol0, bob1, dave1]);

        expect(aboutMessage(seen.get(bob1)!, id), 'bob on gw-1').to.deep.equal([{ message: ack.message }]);
        expect(aboutMessage(seen.get(carol0)!, id), 'carol on gw-0').to.deep.equal([{ message: ack.message }]);
        expect(aboutMessage(seen.get(alice0)!, id), 'the sending socket').to.deep.equal([]);
        expect(aboutMessage(seen.get(dave1)!, id), 'dave, no member, on gw-1').to.deep.equal([]);
        const stored = messageWrites(c.chat).filter((w) => w.body.sender_id === alice);
        expect(stored.map((w) => w.body)).to.deep.equal([{ sender_id: alice, room_id: room, content: 'hello room', message_type: 'text' }]);
        expect(chatPosts(c, `/rooms/${room}/members/${alice}`, 'GET'), 'membership asked of the chat-service').to.have.length.at.least(1);
      });

      it('user_typing and user_stop_typing reach the receiver on the other instance, never the typist\'s other device', async () => {
        const { c, alice, bob, alice0, bob1 } = await aliceOn0BobOn1();
        const alice1 = await connect(c, 1, alice);
        const bobSees = { typing: collect(bob1.socket, 'user_typing'), stop: collect(bob1.socket, 'user_stop_typing') };
        const aliceSees = { typing: collect(alice1.socket, 'user_typing'), stop: collect(alice1.socket, 'user_stop_typing') };

        await ok(request(alice0.socket, 'typing', { receiver_id: bob }), 'typing');
        await waitFor(() => bobSees.typing.length > 0, EVENT_WAIT_MS, 'user_typing at bob on gw-1');
        await ok(request(alice0.socket, 'stop_typing', { receiver_id: bob }), 'stop_typing');
        await waitFor(() => bobSees.stop.length > 0, EVENT_WAIT_MS, 'user_stop_typing at bob on gw-1');
        await flush(c, [bob1, alice1]);

        expect(bobSees.typing).to.deep.equal([{ user_id: alice, receiver_id: bob }]);
        expect(bobSees.stop).to.deep.equal([{ user_id: alice, receiver_id: bob }]);
        expect(aliceSees, 'the typist\'s other device on gw-1').to.deep.equal({ typing: [], stop: [] });
      });

      it('user_stop_typing follows by itself TYPING_TIMEOUT_MS after the last typing, on the other instance, once', async () => {
        const { c, alice, bob, alice0, bob1 } = await aliceOn0BobOn1();
        const stops = collect(bob1.socket, 'user_stop_typing');
        const typing = nextMatching(bob1.socket, 'user_typing', () => true);

        await ok(request(alice0.socket, 'typing', { receiver_id: bob }), 'typing');
        const started = Date.now();
        expect(await typing).to.deep.equal({ user_id: alice, receiver_id: bob });
        await waitFor(() => stops.length > 0, TYPING_TIMEOUT_MS + EVENT_WAIT_MS, 'the automatic user_stop_typing at bob on gw-1');
        console.log(`      (automatic user_stop_typing after ${Date.now() - started} ms, TYPING_TIMEOUT_MS=${TYPING_TIMEOUT_MS})`);
        await flush(c, [bob1]);
        expect(stops).to.deep.equal([{ user_id: alice, receiver_id: bob }]);
      });

      it('message_status_update and message_read_receipt reach the sender on the other instance', async () => {
        const { c, alice, bob, alice0, bob1 } = await aliceOn0BobOn1();
        const updates = collect(alice0.socket, 'message_status_update');
        const receipts = collect(alice0.socket, 'message_read_receipt');
        const { message } = await ok(request(alice0.socket, 'send_message', { receiver_id: bob, content: 'read me' }), 'send_message');
        const id = message.message_id;

        expect(await ok(request(bob1.socket, 'message_delivered', { message_id: id }), 'message_delivered')).to.deep.equal({ ok: true, message_id: id, status: 'delivered' });
        await waitFor(() => updates.length === 1, EVENT_WAIT_MS, 'the delivered status update at alice on gw-0');
        expect(await ok(request(bob1.socket, 'message_read', { message_id: id }), 'message_read')).to.deep.equal({ ok: true, message_id: id, status: 'read' });
        await waitFor(() => receipts.length > 0 && updates.length > 1, EVENT_WAIT_MS, 'the read receipt at alice on gw-0');
        await flush(c, [alice0]);

        const stored = c.chat.receipts.filter((r) => r.message_id === id);
        expect(stored.map(({ user_id, status }) => ({ user_id, status }))).to.deep.equal([
          { user_id: bob, status: 'delivered' },
          { user_id: bob, status: 'read' },
        ]);
        expect(updates).to.deep.equal([
          { message_id: id, status: 'delivered', user_id: bob, at: stored[0].at },
          { message_id: id, status: 'read', user_id: bob, at: stored[1].at },
        ]);
        expect(receipts).to.deep.equal([{ message_id: id, reader_id: bob, read_at: stored[1].at }]);
      });

      it('message_deleted reaches the receiver on the other instance after the chat-service deleted the message', async () => {
        const { c, alice, bob, alice0, bob1 } = await aliceOn0BobOn1();
        const deleted = collect(bob1.socket, 'message_deleted');
        const { message } = await ok(request(alice0.socket, 'send_message', { receiver_id: bob, content: 'oops' }), 'send_message');
        const id = message.message_id;

        expect(await ok(request(alice0.socket, 'delete_message', { message_id: id }), 'delete_message')).to.deep.equal({ ok: true, message_id: id });
        await waitFor(() => deleted.length > 0, EVENT_WAIT_MS, 'message_deleted at bob on gw-1');
        await flush(c, [bob1]);

        expect(deleted).to.deep.equal([{ message_id: id, deleted_by: alice, receiver_id: bob }]);
        const deletes = chatPosts(c, `/messages/${id}`, 'DELETE');
        expect(deletes, 'DELETE /messages/{id}').to.have.length(1);
        expect(deletes[0].headers['x-user-id']).to.equal(alice);
        expect(c.chat.messages.has(id), 'still stored').to.equal(false);
      });

      it('user_connected and user_disconnected reach a presence subscriber on the other instance; the auth-service hears each once', async () => {
        const c = cluster();
        const carol = uniqueId('carol');
        const dave = uniqueId('dave');
        const carol0 = await connect(c, 0, carol);
        const connected = collect(carol0.socket, 'user_connected');
        const disconnected = collect(carol0.socket, 'user_disconnected');
        expect(await ok(request(carol0.socket, 'presence_subscribe', { user_ids: [dave] }), 'presence_subscribe')).to.deep.equal({ ok: true, online: [] });

        const dave1 = await connect(c, 1, dave);
        await waitFor(() => connected.length > 0, EVENT_WAIT_MS, 'user_connected at carol on gw-0');
        // Status updates wait a moment to coalesce: an offline right behind its online would cancel it.
        await waitFor(() => statuses(c, dave).length > 0, EVENT_WAIT_MS, 'the online status update of dave');
        dave1.socket.disconnect();
        await waitFor(() => disconnected.length > 0, EVENT_WAIT_MS, 'user_disconnected at carol on gw-0');
        await flush(c, [carol0]);

        expect(connected.map((p) => p.user_id)).to.deep.equal([dave]);
        expectIsoTime(connected[0].at, 'user_connected.at');
        expect(disconnected.map((p) => p.user_id)).to.deep.equal([dave]);
        expectIsoTime(disconnected[0].last_seen, 'user_disconnected.last_seen');
        await waitFor(() => statuses(c, dave).length >= 2, EVENT_WAIT_MS, 'two status updates of dave');
        expect(statuses(c, dave)).to.deep.equal(['online', 'offline']);
        expect(c.auth.statusHistory.find((s) => s.user_id === dave && s.status === 'offline')!.last_seen).to.equal(disconnected[0].last_seen);
      });

      it('get_online_users and presence_subscribe\'s online list read the cluster view', async () => {
        const c = cluster();
        const erin = uniqueId('erin');
        const frank = uniqueId('frank');
        const ghost = uniqueId('ghost');
        await connect(c, 1, erin);
        const frank0 = await connect(c, 0, frank);

        expect(await onlineAmong(frank0.socket, [erin, ghost, frank]), 'get_online_users with user_ids on gw-0').to.deep.equal([erin, frank]);
        const all = await ok(request(frank0.socket, 'get_online_users', {}), 'get_online_users');
        expect(all.users, 'get_online_users without user_ids on gw-0').to.include.members([erin, frank]).and.not.include(ghost);
        expect(await ok(request(frank0.socket, 'presence_subscribe', { user_ids: [erin, ghost] }), 'presence_subscribe')).to.deep.equal({ ok: true, online: [erin] });
      });
    });

    describe('presence transitions happen once under concurrency', () => {
      /** Subscribers of `user`, one per instance. */
      async function subscribers(c: Cluster, user: string) {
        const subs = await Promise.all(c.instances.map((_, i) => connect(c, i, uniqueId(`watcher${i}`))));
        for (const s of subs) await ok(request(s.socket, 'presence_subscribe', { user_ids: [user] }), 'presence_subscribe');
        return subs.map((s) => ({ ...s, connected: collect(s.socket, 'user_connected'), disconnected: collect(s.socket, 'user_disconnected') }));
      }

      /** Four sockets of `user` over gw-0, gw-1, gw-0, gw-1, all started at the same moment. */
      const connectFourAtOnce = (c: Cluster, user: string) => Promise.all([0, 1, 0, 1].map((i) => connect(c, i, user)));

      it('a user\'s 4 sockets connecting at once over both instances give each instance\'s subscriber exactly one user_connected', async () => {
        const c = cluster();
        const user = uniqueId('quad');
        const subs = await subscribers(c, user);
        await connectFourAtOnce(c, user);
        await waitFor(() => subs.every((s) => s.connected.length > 0), EVENT_WAIT_MS, 'user_connected at every subscriber');
        await flush(c, subs);
        for (const [i, s] of subs.entries()) {
          expect(s.connected.map((p) => p.user_id), `user_connected at the subscriber on gw-${i}`).to.deep.equal([user]);
          expectIsoTime(s.connected[0].at, 'user_connected.at');
        }
      });

      it('the 4 sockets disconnecting at once give exactly one user_disconnected per subscriber, and the auth-service one online and one offline (3 rounds)', async () => {
        const c = cluster();
        for (let round = 1; round <= 3; round += 1) {
          const user = uniqueId(`quad-round${round}`);
          const subs = await subscribers(c, user);
          const sockets = await connectFourAtOnce(c, user);
          await waitFor(() => subs.every((s) => s.connected.length > 0), EVENT_WAIT_MS, 'user_connected at every subscriber');
          await waitFor(() => statuses(c, user).length > 0, EVENT_WAIT_MS, 'the online status update');
          for (const s of sockets) s.socket.disconnect();
          await waitFor(() => subs.every((s) => s.disconnected.length > 0), EVENT_WAIT_MS, `round ${round}: user_disconnected at every subscriber`);
          // Once the user is offline in Redis, all four removals have run; then nothing more may come.
          await waitFor(async () => (await onlineAmong(subs[0].socket, [user])).length === 0, EVENT_WAIT_MS, 'the user offline');
          await flush(c, subs);
          for (const [i, s] of subs.entries()) {
            expect(s.connected.map((p) => p.user_id), `round ${round}: user_connected at the subscriber on gw-${i}`).to.deep.equal([user]);
            expect(s.disconnected.map((p) => p.user_id), `round ${round}: user_disconnected at the subscriber on gw-${i}`).to.deep.equal([user]);
            expectIsoTime(s.disconnected[0].last_seen, 'user_disconnected.last_seen');
          }
          await waitFor(() => statuses(c, user).length >= 2, EVENT_WAIT_MS, 'two status updates');
          expect(statuses(c, user), `round ${round}: PUT /users/{id}/status at the auth-service`).to.deep.equal(['online', 'offline']);
        }
      });
    });

    describe('backend API across instances (PUSH_API_KEYS)', () => {
      it('POST /api/v1/users/{id}/disconnect on gw-0 disconnects the user\'s sockets on gw-1 too and answers { disconnected: n }', async () => {
        const c = cluster();
        const hank = uniqueId('hank');
        const bystander = await connect(c, 1, uniqueId('bystander'));
        const sockets = [await connect(c, 1, hank), await connect(c, 1, hank), await connect(c, 0, hank)];
        const reasons = sockets.map((s) => nextMatching<string>(s.socket, 'disconnect', () => true));

        const reply = await api(c, 0, `/api/v1/users/${hank}/disconnect`, { reason: 'account suspended' });
        expect(reply).to.deep.equal({ status: 200, body: { disconnected: 3 } });
        expect(await Promise.all(reasons)).to.deep.equal(['io server disconnect', 'io server disconnect', 'io server disconnect']);
        await waitFor(async () => (await onlineAmong(bystander.socket, [hank])).length === 0, EVENT_WAIT_MS, 'hank offline');
        expect(bystander.socket.connected, 'another user\'s socket on gw-1').to.equal(true);
      });

      it('POST /api/v1/push on gw-0 with user_ids reaches the user on gw-1', async () => {
        const c = cluster();
        const ivy = uniqueId('ivy');
        const ghost = uniqueId('ghost');
        const ivy1 = await connect(c, 1, ivy);
        const pushed = collect(ivy1.socket, 'order_update');
        const data = { order_id: 'o-1', state: 'shipped' };

        const reply = await api(c, 0, '/api/v1/push', { user_ids: [ivy, ghost], event: 'order_update', data });
        expect(reply).to.deep.equal({ status: 202, body: { accepted: true, online_users: [ivy] } });
        await waitFor(() => pushed.length > 0, EVENT_WAIT_MS, 'order_update at ivy on gw-1');
        await flush(c, [ivy1]);
        expect(pushed).to.deep.equal([data]);
      });

      it('POST /api/v1/push on gw-0 with room_ids reaches the room\'s members who joined on gw-1, no one else', async () => {
        const c = cluster();
        const room = uniqueId('room');
        const [jane, kim, leo] = ['jane', 'kim', 'leo'].map(uniqueId);
        c.chat.addRoom(room, [jane, kim]);
        const jane1 = await connect(c, 1, jane);
        const kim1 = await connect(c, 1, kim);
        const leo1 = await connect(c, 1, leo);
        for (const member of [jane1, kim1]) await ok(request(member.socket, 'join_room', { room_id: room }), `join_room of ${member.user}`);
        const seen = new Map([jane1, kim1, leo1].map((s) => [s, collect(s.socket, 'room_notice')]));
        const data = { text: 'meeting at noon' };

        const reply = await api(c, 0, '/api/v1/push', { room_ids: [room], event: 'room_notice', data });
        expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
        expect(reply.body).to.include({ accepted: true });
        await waitFor(() => seen.get(jane1)!.length > 0 && seen.get(kim1)!.length > 0, EVENT_WAIT_MS, 'room_notice at the members on gw-1');
        await flush(c, [jane1, kim1, leo1]);
        expect(seen.get(jane1), 'jane').to.deep.equal([data]);
        expect(seen.get(kim1), 'kim').to.deep.equal([data]);
        expect(seen.get(leo1), 'leo, no member').to.deep.equal([]);
      });
    });
  });

  // The forgetting travels through the adapter like the disconnect: both adapters carry it.
  for (const adapter of ['classic', 'sharded']) {
    describe(`AUTH_MODE=remote: revoking a user on one instance (REDIS_ADAPTER=${adapter})`, () => {
      const cluster = useCluster({ env: { AUTH_MODE: 'remote', JWT_SECRET: '', PUSH_API_KEYS: API_KEY, REDIS_ADAPTER: adapter } });
      afterEach(() => cluster().auth.faults.clear());

      it('POST /api/v1/users/{id}/disconnect on gw-0 makes gw-1 verify the user\'s token again too', async () => {
        const c = cluster();
        const ivy = uniqueId('ivy');
        const token = c.token(ivy);
        // Both instances have verified (and cached) the token; then the auth-service revokes it.
        const sockets = [await c.connect(0, ivy, token), await c.connect(1, ivy, token)];
        c.auth.faults.add({ status: 401, body: { error: { code: 'AUTH_INVALID', message: 'revoked' } }, match: { path: /^\/auth\/verify$/ } });
        const gone = sockets.map((s) => nextMatching<string>(s, 'disconnect', () => true));

        expect(await api(c, 0, `/api/v1/users/${ivy}/disconnect`, {})).to.deep.equal({ status: 200, body: { disconnected: 2 } });
        await Promise.all(gone);

        const refused = await connectError(c.client(1, token));
        expect(refused.data).to.deep.equal({ code: 'AUTH_INVALID' });
      });
    });
  }

  describe('an instance killed with SIGKILL', () => {
    let cluster: Cluster | undefined;
    before(function () {
      requireRedis(this);
    });
    afterEach(async () => {
      await cluster?.stop();
      cluster = undefined;
    });

    /**
     * Connects `victim` to gw-1 only and a subscriber of it on every other instance, kills gw-1
     * and waits for every subscriber's first `user_disconnected` (bounded by PRESENCE_STALE_MS + 1.5 s).
     */
    async function killWithSubscribers(instances: number) {
      const c = (cluster = await startCluster({ instances }));
      const victim = uniqueId('victim');
      await connect(c, 1, victim);
      // Sent after a short coalescing window: a kill before it would lose the online.
      await waitFor(() => statuses(c, victim).length > 0, EVENT_WAIT_MS, 'the online status update');
      const subs = [];
      for (const i of c.instances.keys()) {
        if (i === 1) continue;
        const s = await connect(c, i, uniqueId(`watcher${i}`));
        expect(await ok(request(s.socket, 'presence_subscribe', { user_ids: [victim] }), 'presence_subscribe')).to.deep.equal({ ok: true, online: [victim] });
        subs.push({ ...s, instance: i, disconnected: collect(s.socket, 'user_disconnected') });
      }
      const killedAt = Date.now();
      await c.instances[1].kill('SIGKILL');
      const arrivals = subs.map((s) =>
        waitFor(() => s.disconnected.length > 0, PRESENCE_STALE_MS + 1500, `user_disconnected at the subscriber on gw-${s.instance}`).then(() => Date.now() - killedAt),
      );
      const delays = await Promise.all(arrivals);
      console.log(`      (SIGKILL → user_disconnected after ${delays.join(', ')} ms; PRESENCE_STALE_MS=${PRESENCE_STALE_MS})`);
      return { c, victim, subs };
    }

    it('its users are announced with user_disconnected to a subscriber on the other instance within PRESENCE_STALE_MS, and drop out of get_online_users', async () => {
      const { c, victim, subs } = await killWithSubscribers(2);
      const [sub] = subs;
      expect(sub.disconnected.map((p) => p.user_id)).to.deep.equal([victim]);
      expectIsoTime(sub.disconnected[0].last_seen, 'user_disconnected.last_seen');
      expect(await onlineAmong(sub.socket, [victim]), 'get_online_users with user_ids').to.deep.equal([]);
      expect((await ok(request(sub.socket, 'get_online_users', {}), 'get_online_users')).users, 'get_online_users').to.not.include(victim);
      await waitFor(() => statuses(c, victim).length >= 2, EVENT_WAIT_MS, 'the offline status update');
      expect(statuses(c, victim)).to.deep.equal(['online', 'offline']);
      expect(c.instances[0].alive, `gw-0 still running:\n${c.instances[0].output()}`).to.equal(true);
    });

    it('with three instances the cleanup happens once: exactly one user_disconnected per subscriber on each surviving instance', async () => {
      const { c, victim, subs } = await killWithSubscribers(3);
      // A second cleanup could only come from a later sweep: let two more pass, then flush.
      await sleep(2 * MAINTENANCE_MS);
      await flush(c, subs);
      for (const s of subs) {
        expect(s.disconnected.map((p) => p.user_id), `user_disconnected at the subscriber on gw-${s.instance}`).to.deep.equal([victim]);
      }
      const cleanups = c.instances.filter((g) => g.alive).flatMap((g) => g.logs('removed presence of a stale instance').map(() => g.id));
      expect(cleanups, 'instances that removed gw-1\'s presence').to.have.length(1);
      expect(statuses(c, victim), 'PUT /users/{id}/status at the auth-service').to.deep.equal(['online', 'offline']);
    });
  });

  describe('Redis stopped and restarted while clients stay connected', () => {
    const cluster = useCluster({ instances: 2 });

    /** Polls every instance's /ready until each answers `status`; returns the last bodies. */
    async function readyEverywhere(c: Cluster, status: number): Promise<any[]> {
      const bodies: any[] = [];
      await waitFor(
        async () => {
          const replies = await Promise.all(c.instances.map((g) => fetch(`${g.url}/ready`, { signal: AbortSignal.timeout(1000) })));
          if (!replies.every((r) => r.status === status)) return false;
          bodies.splice(0, bodies.length, ...(await Promise.all(replies.map((r) => r.json()))));
          return true;
        },
        8000,
        `/ready ${status} on every instance`,
      );
      return bodies;
    }

    /** Stops Redis, waits for /ready 503 everywhere, runs `during`, then restarts Redis and waits for /ready 200. */
    async function outage(c: Cluster, during: () => Promise<void>): Promise<void> {
      await c.redis.stop();
      try {
        const bodies = await readyEverywhere(c, 503);
        for (const body of bodies) expect(body).to.include({ reason: 'redis unavailable' });
        await during();
      } finally {
        await c.redis.restart();
      }
      await readyEverywhere(c, 200);
    }

    /** Asserts no process exited and each still answers /health, with no unhandled error logged. */
    async function expectAllServing(c: Cluster): Promise<void> {
      for (const g of c.instances) {
        expect(g.alive, `${g.id} still running:\n${g.output()}`).to.equal(true);
        const res = await fetch(`${g.url}/health`, { signal: AbortSignal.timeout(2000) });
        expect(res.status, `${g.id} /health`).to.equal(200);
        const unhandled = [...g.logs('unhandled rejection'), ...g.logs('uncaught exception')];
        expect(unhandled, `${g.id} logged unhandled errors:\n${g.output()}`).to.deep.equal([]);
      }
    }

    it('two users of one instance keep exchanging messages during the outage, while /ready answers 503', async () => {
      const c = cluster();
      const alice0 = await connect(c, 0, uniqueId('alice'));
      const bob0 = await connect(c, 0, uniqueId('bob'));
      await outage(c, async () => {
        for (const [from, to] of [[alice0, bob0], [bob0, alice0], [alice0, bob0]]) {
          const content = uniqueId(`during the outage, ${from.user} to ${to.user}`);
          const arrival = nextMatching(to.socket, 'receive_message', (p) => p.message.content === content);
          const ack = await ok(request(from.socket, 'send_message', { receiver_id: to.user, content }), `send_message of ${from.user}`);
          expect(ack.message).to.include({ sender_id: from.user, receiver_id: to.user, content });
          expect(await arrival).to.deep.equal({ message: ack.message });
        }
      });
      expect(alice0.socket.connected && bob0.socket.connected, 'both still connected').to.equal(true);
      await expectAllServing(c);
    });

    it('after Redis returns, presence lost with its data is repaired: each instance lists the users connected to the other before the outage', async () => {
      const c = cluster();
      const alice0 = await connect(c, 0, uniqueId('alice'));
      const bob0 = await connect(c, 0, uniqueId('bob'));
      const carol1 = await connect(c, 1, uniqueId('carol'));
      await outage(c, async () => undefined);
      await waitFor(
        async () => (await onlineAmong(carol1.socket, [alice0.user, bob0.user])).length === 2 && (await onlineAmong(alice0.socket, [carol1.user])).length === 1,
        5000,
        'users of each instance online at the other',
      );
      // Cross-instance delivery resumed too.
      const content = uniqueId('after the outage');
      const arrival = nextMatching(carol1.socket, 'receive_message', (p) => p.message.content === content);
      await ok(request(alice0.socket, 'send_message', { receiver_id: carol1.user, content }), 'send_message');
      await arrival;
      await expectAllServing(c);
    });

    it('a user who connected during the outage is announced to a subscriber on the other instance once Redis returns', async () => {
      const c = cluster();
      const dave = uniqueId('dave');
      const watcher1 = await connect(c, 1, uniqueId('watcher'));
      expect(await ok(request(watcher1.socket, 'presence_subscribe', { user_ids: [dave] }), 'presence_subscribe')).to.deep.equal({ ok: true, online: [] });
      const connected = collect(watcher1.socket, 'user_connected');
      await outage(c, async () => {
        await connect(c, 0, dave);
      });
      await waitFor(() => connected.length > 0, 5000, 'user_connected of dave at the watcher on gw-1');
      await flush(c, [watcher1]);
      expect(connected.map((p) => p.user_id)).to.deep.equal([dave]);
      expect(await onlineAmong(watcher1.socket, [dave]), 'get_online_users on gw-1').to.deep.equal([dave]);
      await waitFor(() => statuses(c, dave).length > 0, EVENT_WAIT_MS, 'the status update of dave');
      expect(statuses(c, dave), 'PUT /users/{id}/status at the auth-service').to.deep.equal(['online']);
    });

    it('the repair does not announce users who stayed connected through the outage as online again', async () => {
      const c = cluster();
      const alice0 = await connect(c, 0, uniqueId('alice'));
      const watcher1 = await connect(c, 1, uniqueId('watcher'));
      await ok(request(watcher1.socket, 'presence_subscribe', { user_ids: [alice0.user] }), 'presence_subscribe');
      const connected = collect(watcher1.socket, 'user_connected');
      const disconnected = collect(watcher1.socket, 'user_disconnected');
      await outage(c, async () => undefined);
      await waitFor(async () => (await onlineAmong(watcher1.socket, [alice0.user])).length === 1, 5000, 'alice online again in Redis');
      await flush(c, [watcher1]);
      // Alice never went offline: no transition to tell the subscriber or the auth-service about.
      expect({ connected, disconnected, statuses: statuses(c, alice0.user) }, 'presence events and status updates of alice').to.deep.equal({
        connected: [],
        disconnected: [],
        statuses: ['online'],
      });
    });
  });
});

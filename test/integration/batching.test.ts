import { expect } from 'chai';
import sinon from 'sinon';
import type { Socket as ClientSocket } from 'socket.io-client';
import { BATCH_REPROBE_INTERVAL_MS } from '../../src/clients/BatchEndpointSupport.js';
import { MAX_BATCHES_IN_FLIGHT, QUEUED_BATCHES_PER_SLOT } from '../../src/clients/Batcher.js';
import { messageWrites } from '../support/chatWrites.js';
import { request, waitFor } from '../support/events.js';
import { roundTrips } from '../support/scenarios.js';
import { startStack, type Stack, type StackOptions } from '../support/stack.js';

/**
 * Contract section 6 (v2): message and receipt writes through POST /messages/batch and
 * POST /receipts/batch, chosen by CHAT_BATCH_ENDPOINTS (auto by default). Batch calls are held
 * with a hanging fault and let go with `faults.release()`, so "while one is in flight" is a
 * state the test sets up, not a race it hopes to win.
 */

// Held calls must not time out and be retried while a test holds them.
const BASE_ENV = { RATE_LIMIT_ENABLED: 'false', CHAT_SERVICE_TIMEOUT_MS: '10000' };
const MESSAGE_BATCH = { method: 'POST', path: /^\/messages\/batch$/ };
const RECEIPT_BATCH = { method: 'POST', path: /^\/receipts\/batch$/ };

type Ack = { ok: boolean; message?: { message_id: string; sender_id: string; client_msg_id?: string }; error?: { code: string; retryable: boolean } };

describe('batching of chat-service writes', () => {
  let stack: Stack;
  const start = async (env: Record<string, string> = {}, opts: StackOptions = {}) => {
    stack = await startStack({ ...BASE_ENV, ...env }, opts);
  };
  afterEach(() => stack?.stop());

  const calls = (path: string) => stack.chat.requests.filter((r) => r.method === 'POST' && r.path === path);
  /** The items of each batch call on `path`, in order of arrival. */
  const batches = (path = '/messages/batch') => calls(path).map((c) => Object.values(c.body as Record<string, unknown[]>)[0]);
  const batchSizes = (path?: string) => batches(path).map((items) => items.length);
  const held = (n: number, what: string) => waitFor(() => stack.chat.faults.holding === n, 5000, what);
  const send = (socket: ClientSocket, cid: string, extra: Record<string, unknown> = {}): Promise<Ack> =>
    request(socket, 'send_message', { receiver_id: 'bob', content: `message ${cid}`, client_msg_id: cid, ...extra });

  /** Each ack is ok with the sender's own message, stored exactly once under its client_msg_id. */
  function expectAckedAndStoredOnce(acks: Ack[], senders: string[], cids: string[]): void {
    acks.forEach((ack, i) => {
      expect(ack, JSON.stringify(ack)).to.include({ ok: true });
      expect(ack.message).to.include({ sender_id: senders[i], client_msg_id: cids[i] });
      const stored = [...stack.chat.messages.values()].filter((m) => m.sender_id === senders[i] && m.client_msg_id === cids[i]);
      expect(stored.map((m) => m.message_id), `stored ${senders[i]}:${cids[i]}`).to.deep.equal([ack.message!.message_id]);
    });
  }

  describe('CHAT_BATCH_ENDPOINTS=auto (the default) against a chat-service with batch endpoints', () => {
    it('sends a write at once when the gateway is idle (nothing in flight, no batch in the last window): acked with every timer stopped', async () => {
      await start({ CHAT_BATCH_WINDOW_MS: '50' });
      const alice = await stack.connect('alice');
      const idleSend = async (cid: string): Promise<Ack> => {
        // A write that waited for the window (or any timer) would never be acked while the clock stands still.
        const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
        try {
          return await send(alice, cid);
        } finally {
          clock.restore();
        }
      };
      const first = await idleSend('q1');
      await new Promise((resolve) => setTimeout(resolve, 100)); // the window since the last batch passes
      const second = await idleSend('q2');

      expectAckedAndStoredOnce([first, second], ['alice', 'alice'], ['q1', 'q2']);
      expect(messageWrites(stack.chat).map((w) => [w.request.path, w.idempotencyKey])).to.deep.equal([
        ['/messages/batch', 'alice:q1'],
        ['/messages/batch', 'alice:q2'],
      ]);
    });

    it('gathers the writes that arrive within the window of the last batch and sends them together when it closes, not when that batch returns', async () => {
      await start({ CHAT_BATCH_WINDOW_MS: '1000' });
      const senders = ['a0', 'a1', 'a2', 'a3', 'a4'];
      const sockets = await Promise.all(senders.map((u) => stack.connect(u)));
      const cids = senders.map((_, i) => `c${i}`);
      stack.chat.faults.add({ hang: true, match: MESSAGE_BATCH });

      const first = send(sockets[0], cids[0]);
      await held(1, 'the first batch at the chat-service');
      const others = sockets.slice(1).map((s, i) => send(s, cids[i + 1]));
      await roundTrips(...sockets.slice(1));
      stack.chat.faults.release();
      await first;
      await roundTrips(...sockets);
      expect(batchSizes(), 'calls once the first batch returned, inside the window').to.deep.equal([1]);

      expectAckedAndStoredOnce(await Promise.all([first, ...others]), senders, cids);
      expect(batchSizes()).to.deep.equal([1, 4]);
      expect(calls('/messages'), 'single calls').to.deep.equal([]);
    });

    it('sends a batch as soon as CHAT_BATCH_MAX writes are queued, while another is still in flight', async () => {
      await start({ CHAT_BATCH_WINDOW_MS: '300', CHAT_BATCH_MAX: '2' });
      const alice = await stack.connect('alice');
      stack.chat.faults.add({ hang: true, times: 1, match: MESSAGE_BATCH });

      const first = send(alice, 'c0');
      await held(1, 'the first batch at the chat-service');
      const rest = ['c1', 'c2', 'c3'].map((cid) => send(alice, cid));
      await waitFor(() => calls('/messages/batch').length >= 2, 5000, 'a full batch sent beside the held one');
      await roundTrips(alice);
      stack.chat.faults.release();

      expectAckedAndStoredOnce(await Promise.all([first, ...rest]), Array(4).fill('alice'), ['c0', 'c1', 'c2', 'c3']);
      expect(batches().map((items) => items.map((m) => (m as { client_msg_id: string }).client_msg_id))).to.deep.equal([['c0'], ['c1', 'c2'], ['c3']]);
    });

    it(`sends at most ${MAX_BATCHES_IN_FLIGHT} batches at a time and refuses writes beyond the queue's bound with a retryable SERVICE_UNAVAILABLE`, async () => {
      await start({ CHAT_BATCH_MAX: '1' });
      const alice = await stack.connect('alice');
      stack.chat.faults.add({ hang: true, match: MESSAGE_BATCH });
      const queueBound = 1 * MAX_BATCHES_IN_FLIGHT * QUEUED_BATCHES_PER_SLOT;

      const inFlight = Array.from({ length: MAX_BATCHES_IN_FLIGHT }, (_, i) => send(alice, `f${i}`));
      await held(MAX_BATCHES_IN_FLIGHT, 'a full set of batches in flight');
      const queued = Array.from({ length: queueBound }, (_, i) => send(alice, `q${i}`));
      const refused = await Promise.all([send(alice, 'over0'), send(alice, 'over1')]);

      for (const ack of refused) expect(ack, JSON.stringify(ack)).to.deep.include({ ok: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'chat service overloaded', retryable: true } });
      expect(calls('/messages/batch'), 'batches sent while the others are held').to.have.length(MAX_BATCHES_IN_FLIGHT);
      stack.chat.faults.release();
      const cids = [...Array.from({ length: MAX_BATCHES_IN_FLIGHT }, (_, i) => `f${i}`), ...Array.from({ length: queueBound }, (_, i) => `q${i}`)];
      expectAckedAndStoredOnce(await Promise.all([...inFlight, ...queued]), cids.map(() => 'alice'), cids);
      expect(stack.chat.messages.size, 'nothing refused was stored').to.equal(cids.length);
    });

    it('fails only the message whose batch item failed; the others in the batch are stored and acked', async () => {
      await start({ CHAT_BATCH_WINDOW_MS: '300' });
      stack.chat.addRoom('club', ['member', 'leaver']);
      const [member, leaver, outsider, filler] = await Promise.all(['member', 'leaver', 'outsider', 'filler'].map((u) => stack.connect(u)));
      const earlier = await send(member, 'k');
      // The gateway caches the leaver's membership; the chat-service then drops them, so only
      // their item of the batch is refused.
      expect((await send(leaver, 'joined', { receiver_id: undefined, room_id: 'club' })).ok).to.equal(true);
      stack.chat.rooms.get('club')!.delete('leaver');
      stack.chat.faults.add({ hang: true, match: MESSAGE_BATCH });

      const first = send(filler, 'f');
      await held(1, 'the first batch at the chat-service');
      const gathered = [
        send(member, 'k'),
        send(leaver, 'left', { receiver_id: undefined, room_id: 'club' }),
        send(outsider, 'o'),
      ];
      await roundTrips(member, leaver, outsider);
      stack.chat.faults.release();
      const [again, refused, other] = await Promise.all(gathered);
      await first;

      expect(batchSizes().at(-1), 'the three writes shared one batch').to.equal(3);
      expect(again.message!.message_id, 'a repeated key answers with the first message').to.equal(earlier.message!.message_id);
      expect(refused, JSON.stringify(refused)).to.deep.include({ ok: false });
      expect(refused.error).to.include({ code: 'FORBIDDEN', retryable: false });
      expectAckedAndStoredOnce([other], ['outsider'], ['o']);
      expect([...stack.chat.messages.values()].filter((m) => m.client_msg_id === 'k'), 'one message under the repeated key').to.have.length(1);
      expect([...stack.chat.messages.values()].filter((m) => m.client_msg_id === 'left'), 'the refused message').to.deep.equal([]);
    });

    it('batches receipts the same way, and acks each', async () => {
      await start({ CHAT_BATCH_WINDOW_MS: '300' });
      const alice = await stack.connect('alice');
      const bob = await stack.connect('bob');
      const sent = await Promise.all([0, 1, 2].map((i) => send(alice, `r${i}`)));
      const ids = sent.map((s) => s.message!.message_id);
      stack.chat.faults.add({ hang: true, match: RECEIPT_BATCH });

      const first = request(bob, 'message_delivered', { message_id: ids[0] });
      await held(1, 'the first receipt batch at the chat-service');
      const others = ids.slice(1).map((id) => request(bob, 'message_delivered', { message_id: id }));
      await roundTrips(bob);
      stack.chat.faults.release();

      const acks = await Promise.all([first, ...others]);
      acks.forEach((a, i) => expect(a).to.deep.equal({ ok: true, message_id: ids[i], status: 'delivered' }));
      expect(batchSizes('/receipts/batch')).to.deep.equal([1, 2]);
      expect(stack.chat.receipts.map((r) => r.message_id)).to.have.members(ids);
    });

    it('retries a batch that failed with a 500 under the same Idempotency-Key, and stores each message once', async () => {
      await start();
      const alice = await stack.connect('alice');
      stack.chat.faults.add({ status: 500, times: 1, match: MESSAGE_BATCH });

      expectAckedAndStoredOnce([await send(alice, 'r1')], ['alice'], ['r1']);
      const keys = calls('/messages/batch').map((c) => c.headers['idempotency-key']);
      expect(keys).to.have.length(2);
      expect(keys[0]).to.match(/^batch:/).and.equal(keys[1]);
    });
  });

  describe('CHAT_BATCH_ENDPOINTS=auto against a chat-service without batch endpoints', () => {
    it('stores every write once through single calls after the batch endpoint answered 404, and stays with single calls', async () => {
      await start({}, { chatService: { batchEndpoints: false } });
      const senders = ['s0', 's1', 's2', 's3'];
      const sockets = await Promise.all(senders.map((u) => stack.connect(u)));
      const bob = await stack.connect('bob');
      const writes = sockets.flatMap((s, i) => [0, 1, 2].map((n) => ({ s, sender: senders[i], cid: `${senders[i]}-${n}` })));

      const acks = await Promise.all(writes.map((w) => send(w.s, w.cid)));
      expectAckedAndStoredOnce(acks, writes.map((w) => w.sender), writes.map((w) => w.cid));
      const refusedBatches = calls('/messages/batch').length;
      expect(refusedBatches, 'batches tried before the first 404 came back').to.be.within(1, MAX_BATCHES_IN_FLIGHT);
      expect(calls('/messages'), 'one single call per write').to.have.length(writes.length);

      expectAckedAndStoredOnce([await send(sockets[0], 'later')], ['s0'], ['later']);
      const receipt = await request(bob, 'message_delivered', { message_id: acks[0].message!.message_id });
      expect(receipt.ok, JSON.stringify(receipt)).to.equal(true);
      expect(await request(bob, 'message_read', { message_id: acks[0].message!.message_id })).to.include({ ok: true });
      expect(calls('/messages/batch'), 'no batch tried again within the interval').to.have.length(refusedBatches);
      expect(calls('/receipts/batch'), 'receipts: one refused batch').to.have.length(1);
      expect(stack.chat.receipts.map((r) => r.status)).to.deep.equal(['delivered', 'read']);
    });

    for (const status of [405, 501]) {
      it(`treats a ${status} on the batch path like a 404: single calls at once, the batch not retried`, async () => {
        await start();
        const alice = await stack.connect('alice');
        stack.chat.faults.add({ status, match: MESSAGE_BATCH });

        expectAckedAndStoredOnce([await send(alice, 'n1'), await send(alice, 'n2')], ['alice', 'alice'], ['n1', 'n2']);
        expect(calls('/messages/batch')).to.have.length(1);
        expect(calls('/messages')).to.have.length(2);
      });
    }

    it(`probes the batch endpoint again after ${BATCH_REPROBE_INTERVAL_MS / 1000} s with one real batch, and uses it once it answers`, async () => {
      await start();
      let alice = await stack.connect('alice');
      stack.chat.faults.add({ status: 404, match: MESSAGE_BATCH });
      // Only Date is faked: the probe's clock. A client's heartbeat reads it too and closes its
      // socket after the jump, so each jump is followed by a fresh connection.
      const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'], shouldAdvanceTime: true });
      const jump = async () => {
        clock.tick(BATCH_REPROBE_INTERVAL_MS);
        alice.disconnect();
        alice = await stack.connect('alice');
      };
      try {
        expectAckedAndStoredOnce([await send(alice, 'p1'), await send(alice, 'p2')], ['alice', 'alice'], ['p1', 'p2']);
        expect(calls('/messages/batch').length, 'one refused batch, no probe yet').to.equal(1);

        await jump();
        expectAckedAndStoredOnce([await send(alice, 'p3'), await send(alice, 'p4')], ['alice', 'alice'], ['p3', 'p4']);
        expect(calls('/messages/batch').length, 'a probe, refused again; the next write stays single').to.equal(2);

        stack.chat.faults.clear();
        expectAckedAndStoredOnce([await send(alice, 'p5')], ['alice'], ['p5']);
        expect(calls('/messages/batch').length, 'no probe before the interval has passed again').to.equal(2);

        await jump();
        expectAckedAndStoredOnce([await send(alice, 'p6'), await send(alice, 'p7')], ['alice', 'alice'], ['p6', 'p7']);
      } finally {
        clock.restore();
      }
      expect(messageWrites(stack.chat).map((w) => `${w.request.path} ${w.idempotencyKey}`)).to.deep.equal([
        '/messages/batch alice:p1',
        '/messages alice:p1',
        '/messages alice:p2',
        '/messages/batch alice:p3',
        '/messages alice:p3',
        '/messages alice:p4',
        '/messages alice:p5',
        '/messages/batch alice:p6',
        '/messages/batch alice:p7',
      ]);
    });
  });

  describe('CHAT_BATCH_ENDPOINTS=true against a chat-service without batch endpoints', () => {
    it('fails the writes with a retryable SERVICE_UNAVAILABLE and never falls back to single calls', async () => {
      await start({ CHAT_BATCH_ENDPOINTS: 'true' }, { chatService: { batchEndpoints: false } });
      const alice = await stack.connect('alice');

      for (const cid of ['t1', 't2']) {
        const ack = await send(alice, cid);
        expect(ack, JSON.stringify(ack)).to.deep.include({ ok: false });
        expect(ack.error).to.include({ code: 'SERVICE_UNAVAILABLE', retryable: true });
      }
      expect(calls('/messages/batch')).to.have.length(2);
      expect(calls('/messages')).to.deep.equal([]);
      expect(stack.chat.messages.size).to.equal(0);
    });
  });

  describe('CHAT_BATCH_ENDPOINTS=false', () => {
    it('stores each write with its own POST /messages', async () => {
      await start({ CHAT_BATCH_ENDPOINTS: 'false' });
      const alice = await stack.connect('alice');
      expectAckedAndStoredOnce(await Promise.all([send(alice, 'x1'), send(alice, 'x2')]), ['alice', 'alice'], ['x1', 'x2']);
      expect(calls('/messages')).to.have.length(2);
      expect(calls('/messages/batch')).to.deep.equal([]);
    });
  });
});

import { expect } from 'chai';
import { startStack, type Stack } from '../support/stack.js';
import { request, sleep } from '../support/events.js';

/** CHAT_BATCH_ENDPOINTS: writes coalesced into POST /messages/batch and POST /receipts/batch. */
describe('batching of chat-service writes (CHAT_BATCH_ENDPOINTS=true)', () => {
  let stack: Stack;
  beforeEach(async () => {
    // A long window, so that "arrived together" holds on a busy CI machine too.
    stack = await startStack({ CHAT_BATCH_ENDPOINTS: 'true', CHAT_BATCH_WINDOW_MS: '200', CHAT_BATCH_MAX: '100', RATE_LIMIT_ENABLED: 'false' });
  });
  afterEach(() => stack.stop());

  const calls = (path: string) => stack.chat.requests.filter((r) => r.method === 'POST' && r.path === path);

  const batchItems = () => calls('/messages/batch').map((c) => (c.body as { messages: Array<{ idempotency_key: string }> }).messages);

  it('stores concurrent messages in one batch call behind the first, and acks each sender with its own message', async () => {
    const senders = await Promise.all(['a1', 'a2', 'a3', 'a4', 'a5'].map((u) => stack.connect(u)));
    const acks = await Promise.all(
      senders.map((s, i) => request(s, 'send_message', { receiver_id: 'bob', content: `hello ${i}`, client_msg_id: `c${i}` })),
    );

    acks.forEach((ack, i) => expect(ack).to.deep.include({ ok: true }) && expect(ack.message).to.include({ sender_id: `a${i + 1}`, content: `hello ${i}` }));
    expect(new Set(acks.map((a) => a.message.message_id)).size).to.equal(5);
    expect(calls('/messages')).to.have.length(0);
    // The first message after a quiet spell goes at once; the others, arriving behind it
    // within the window, share one call.
    expect(batchItems().map((items) => items.length)).to.deep.equal([1, 4]);
    const keys = batchItems().flatMap((items) => items.map((m) => m.idempotency_key));
    expect(keys).to.have.members(['a1:c0', 'a2:c1', 'a3:c2', 'a4:c3', 'a5:c4']);
  });

  it('does not hold a lone message for the window when traffic is quiet', async () => {
    await stack.stop();
    stack = await startStack({ CHAT_BATCH_ENDPOINTS: 'true', CHAT_BATCH_WINDOW_MS: '1000', RATE_LIMIT_ENABLED: 'false' });
    const alice = await stack.connect('alice');
    const started = performance.now();
    const ack = await request(alice, 'send_message', { receiver_id: 'bob', content: 'alone', client_msg_id: 'q1' });
    expect(ack.ok).to.equal(true);
    expect(performance.now() - started, 'acked without waiting out the 1000 ms window').to.be.below(900);
    expect(batchItems().map((items) => items.map((m) => m.idempotency_key))).to.deep.equal([['alice:q1']]);
  });

  it('sends at most 4 batches at a time; what arrives meanwhile leaves as one batch when one returns', async () => {
    await stack.stop();
    stack = await startStack({ CHAT_BATCH_ENDPOINTS: 'true', CHAT_BATCH_WINDOW_MS: '1', RATE_LIMIT_ENABLED: 'false' });
    stack.chat.faults.add({ delayMs: 500, match: { path: /\/messages\/batch$/ } });
    const alice = await stack.connect('alice');
    // 20 ms apart, longer than the 1 ms window: each would go alone, but only 4 may be in flight.
    const acks: Array<Promise<{ ok: boolean }>> = [];
    for (let i = 0; i < 10; i++) {
      acks.push(request(alice, 'send_message', { receiver_id: 'bob', content: `m${i}`, client_msg_id: `b${i}` }));
      await sleep(20);
    }
    expect((await Promise.all(acks)).every((a) => a.ok)).to.equal(true);
    expect(batchItems().map((items) => items.length)).to.deep.equal([1, 1, 1, 1, 6]);
  });

  it('answers each item of a batch with its own outcome', async () => {
    stack.chat.addRoom('club', ['member']);
    const member = await stack.connect('member');
    const outsider = await stack.connect('outsider');
    // The outsider's room message is refused by the gateway's membership check; a direct
    // message with the same key as an earlier one is answered with the first message.
    const first = await request(member, 'send_message', { receiver_id: 'x', content: 'one', client_msg_id: 'k' });
    const [again, other, refused] = await Promise.all([
      request(member, 'send_message', { receiver_id: 'x', content: 'one', client_msg_id: 'k' }),
      request(outsider, 'send_message', { receiver_id: 'x', content: 'two', client_msg_id: 'k2' }),
      request(outsider, 'send_message', { room_id: 'club', content: 'three' }),
    ]);
    expect(again.message.message_id).to.equal(first.message.message_id);
    expect(other.ok).to.equal(true);
    expect(refused).to.deep.include({ ok: false });
    expect(refused.error.code).to.equal('FORBIDDEN');
    expect([...stack.chat.messages.values()].filter((m) => m.client_msg_id === 'k')).to.have.length(1);
  });

  it('batches receipts too, and tells each sender', async () => {
    const alice = await stack.connect('alice');
    const bob = await stack.connect('bob');
    const sent = await Promise.all([0, 1, 2].map((i) => request(alice, 'send_message', { receiver_id: 'bob', content: `m${i}`, client_msg_id: `r${i}` })));
    const acks = await Promise.all(sent.map((s) => request(bob, 'message_delivered', { message_id: s.message.message_id })));
    acks.forEach((a, i) => expect(a).to.deep.equal({ ok: true, message_id: sent[i].message.message_id, status: 'delivered' }));
    // The first receipt after a quiet spell goes at once, the two behind it share a call.
    expect(calls('/receipts/batch').map((c) => (c.body as { receipts: unknown[] }).receipts.length)).to.deep.equal([1, 2]);
    expect(stack.chat.receipts).to.have.length(3);
  });

  it('falls back to single calls when the service has no batch endpoint', async () => {
    stack.chat.faults.add({ status: 404, match: { path: /\/batch$/ } });
    const alice = await stack.connect('alice');
    const acks = await Promise.all([0, 1].map((i) => request(alice, 'send_message', { receiver_id: 'bob', content: `m${i}`, client_msg_id: `f${i}` })));
    expect(acks.every((a) => a.ok)).to.equal(true);
    expect(calls('/messages')).to.have.length(2);
    const later = await request(alice, 'send_message', { receiver_id: 'bob', content: 'later', client_msg_id: 'f9' });
    expect(later.ok).to.equal(true);
    expect(calls('/messages/batch')).to.have.length(1);
  });
});

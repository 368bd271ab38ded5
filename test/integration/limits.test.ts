import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import { messageWrites } from '../support/chatWrites.js';
import { collect, nextEvent, request, sleep } from '../support/events.js';
import { counter, scrape } from '../support/metrics.js';
import { expectFailure, roundTrip, uniqueId, useStack } from '../support/scenarios.js';
import type { Stack } from '../support/stack.js';

/** Sends `count` direct messages and returns their acks, in order. */
async function sendMany(socket: ClientSocket, receiverId: string, count: number, prefix = 'm'): Promise<any[]> {
  const acks = [];
  for (let i = 1; i <= count; i++) acks.push(await request(socket, 'send_message', { receiver_id: receiverId, content: `${prefix}${i}` }));
  return acks;
}

/** Asserts the contract's RATE_LIMITED failure: retryable, with a positive retry_after_ms. */
function expectRateLimited(ack: any): void {
  expectFailure(ack, 'RATE_LIMITED');
  expect(ack.error.retryable, 'retryable').to.equal(true);
  expect(ack.error.retry_after_ms, 'retry_after_ms').to.be.a('number').above(0);
}

const storedFrom = (stack: Stack, senderId: string) => messageWrites(stack.chat).filter((w) => w.body.sender_id === senderId);

describe('limits: per-user event rate limits', () => {
  const stack = useStack({ RATE_LIMIT_MESSAGES: '3/60', RATE_LIMIT_TYPING: '2/60' });

  /** Two fresh users, both connected. */
  async function pair() {
    const [aId, bId] = [uniqueId('alice'), uniqueId('bob')];
    return { aId, bId, a: await stack().connect(aId), b: await stack().connect(bId) };
  }

  it('refuses the 4th message in the window with RATE_LIMITED, without storing or relaying it', async () => {
    const { aId, bId, a, b } = await pair();
    const received = collect(b, 'receive_message');
    const acks = await sendMany(a, bId, 4);
    expect(acks.slice(0, 3).map((x) => x.ok)).to.deep.equal([true, true, true]);
    expectRateLimited(acks[3]);
    expect(storedFrom(stack(), aId)).to.have.length(3);
    await roundTrip(b);
    expect(received.map((r) => r.message.content)).to.deep.equal(['m1', 'm2', 'm3']);
  });

  it('leaves other users unaffected', async () => {
    const { aId, bId, a, b } = await pair();
    await sendMany(a, bId, 3);
    expectRateLimited(await request(a, 'send_message', { receiver_id: bId, content: 'one too many' }));
    const reply = await request(b, 'send_message', { receiver_id: aId, content: 'I can still talk' });
    expect(reply.ok).to.equal(true);
  });

  it('counts one allowance per user across all of their sockets', async () => {
    const { aId, bId, a } = await pair();
    const secondDevice = await stack().connect(aId);
    await sendMany(a, bId, 3);
    expectRateLimited(await request(secondDevice, 'send_message', { receiver_id: bId, content: 'from the phone' }));
  });

  it('reports a limited event sent without an ack as an error event', async () => {
    const { bId, a } = await pair();
    await sendMany(a, bId, 3);
    const error = nextEvent(a, 'error');
    a.emit('send_message', { receiver_id: bId, content: 'no callback', client_msg_id: 'nc-1' });
    expect(await error).to.include({ code: 'RATE_LIMITED', event: 'send_message', client_msg_id: 'nc-1' });
  });

  it('counts rejections in gateway_rate_limit_rejections_total by family', async () => {
    const { bId, a } = await pair();
    const before = counter(await scrape(stack()), 'gateway_rate_limit_rejections_total', { family: 'messages' });
    await sendMany(a, bId, 5);
    const after = counter(await scrape(stack()), 'gateway_rate_limit_rejections_total', { family: 'messages' });
    expect(after - before).to.equal(2);
  });

  it('limits typing separately from messages', async () => {
    const { bId, a } = await pair();
    const typing = () => request(a, 'typing', { receiver_id: bId });
    const metricBefore = counter(await scrape(stack()), 'gateway_rate_limit_rejections_total', { family: 'typing' });

    expect((await typing()).ok).to.equal(true);
    expect((await typing()).ok).to.equal(true);
    expectRateLimited(await typing());
    expectRateLimited(await request(a, 'stop_typing', { receiver_id: bId }));
    // Typing spent nothing of the message allowance.
    expect((await sendMany(a, bId, 3)).map((x) => x.ok)).to.deep.equal([true, true, true]);
    expectRateLimited(await request(a, 'send_message', { receiver_id: bId, content: 'm4' }));

    const metricAfter = counter(await scrape(stack()), 'gateway_rate_limit_rejections_total', { family: 'typing' });
    expect(metricAfter - metricBefore).to.equal(2);
  });

  it('keeps typing available after the message allowance is spent', async () => {
    const { bId, a } = await pair();
    await sendMany(a, bId, 3);
    expectRateLimited(await request(a, 'send_message', { receiver_id: bId, content: 'm4' }));
    expect((await request(a, 'typing', { receiver_id: bId })).ok).to.equal(true);
  });
});

describe('limits: RATE_LIMIT_ENABLED=false', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_MESSAGES: '3/60' });

  it('lets every event through', async () => {
    const [aId, bId] = [uniqueId('alice'), uniqueId('bob')];
    const a = await stack().connect(aId);
    const acks = await sendMany(a, bId, 5);
    expect(acks.map((x) => x.ok)).to.deep.equal([true, true, true, true, true]);
  });
});

describe('limits: idle timeout', () => {
  const idleTimeoutMs = 1000; // the smallest IDLE_TIMEOUT_MS the config accepts
  const stack = useStack({ IDLE_TIMEOUT_MS: String(idleTimeoutMs), RATE_LIMIT_ENABLED: 'false' });

  it('disconnects a socket that sends no event, and keeps one that does', async () => {
    const idle = await stack().connect(uniqueId('idle'));
    const active = await stack().connect(uniqueId('active'));
    const activeDisconnects = collect(active, 'disconnect');
    const acks: any[] = [];
    const ticker = setInterval(() => {
      request(active, 'get_online_users', {}).then((ack) => acks.push(ack), () => undefined);
    }, 300);
    try {
      await nextEvent(idle, 'disconnect', idleTimeoutMs * 3);
      await sleep(idleTimeoutMs); // the active socket has now outlived two idle periods
      expect(activeDisconnects, 'active socket disconnects').to.deep.equal([]);
      expect(active.connected).to.equal(true);
      expect(acks.length).to.be.at.least(3);
      expect(acks.every((ack) => ack.ok)).to.equal(true);
    } finally {
      clearInterval(ticker);
    }
  });
});

import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import { messageWrites } from '../support/chatWrites.js';
import { connectError, request } from '../support/events.js';
import { useGatewayPair } from '../support/gatewayPair.js';
import { handshakesTogether } from '../support/handshakes.js';
import { expectFailure, uniqueId } from '../support/scenarios.js';

/** Asserts the contract's RATE_LIMITED failure, with a positive retry_after_ms. */
function expectRateLimited(ack: any): void {
  expectFailure(ack, 'RATE_LIMITED');
  expect(ack.error.retry_after_ms, 'retry_after_ms').to.be.a('number').above(0);
}

describe('cluster: rate limits shared through Redis', () => {
  const cluster = useGatewayPair({ RATE_LIMIT_MESSAGES: '3/60' });

  /** A fresh user with one socket on each instance, and someone to write to. */
  async function userOnBoth() {
    const { a, b } = cluster();
    const userId = uniqueId('alice');
    const onA = await a.connect(userId);
    const onB = await b.connect(userId);
    return { userId, onA, onB, to: uniqueId('bob') };
  }

  const send = (socket: ClientSocket, to: string, content: string) => request(socket, 'send_message', { receiver_id: to, content });
  const stored = (senderId: string) => messageWrites(cluster().a.chat).filter((w) => w.body.sender_id === senderId);

  it('refuses the 4th message on the instance that sent fewer than 3 itself', async () => {
    const { userId, onA, onB, to } = await userOnBoth();
    const acks = [await send(onA, to, 'm1'), await send(onB, to, 'm2'), await send(onA, to, 'm3')];
    expect(acks.map((ack) => ack.ok)).to.deep.equal([true, true, true]);
    expectRateLimited(await send(onA, to, 'm4'));
    expect(stored(userId).map((r) => (r.body as { content: string }).content)).to.deep.equal(['m1', 'm2', 'm3']);
  });

  it('refuses the 4th message on the other instance once 3 were sent on one', async () => {
    const { userId, onA, onB, to } = await userOnBoth();
    for (const content of ['m1', 'm2', 'm3']) expect((await send(onA, to, content)).ok, content).to.equal(true);
    expectRateLimited(await send(onB, to, 'm4'));
    expect(stored(userId)).to.have.length(3);
  });
});

describe('cluster: MAX_CONNECTIONS_PER_IP_PER_MIN shared through Redis', () => {
  const cluster = useGatewayPair({ MAX_CONNECTIONS_PER_IP_PER_MIN: '3' });

  it('refuses the 4th handshake from one address across both instances with RATE_LIMITED', async () => {
    const { a, b } = cluster();
    await a.connect(uniqueId('uma'));
    await b.connect(uniqueId('vic'));
    await a.connect(uniqueId('wes'));
    const err = await connectError(b.client({ token: b.token(uniqueId('xan')) }));
    expect(err.data?.code).to.equal('RATE_LIMITED');
    expect(err.data?.retry_after_ms).to.be.a('number').above(0);
  });
});

describe('cluster: MAX_SOCKETS_PER_USER shared through Redis', () => {
  const cluster = useGatewayPair({ MAX_SOCKETS_PER_USER: '2', AUTH_MODE: 'remote', JWT_SECRET: '' });

  it('admits exactly 2 of 10 handshakes of one user completing together over both instances; the rest get RATE_LIMITED', async () => {
    const { a, b } = cluster();
    const user = uniqueId('una');
    const { outcomes } = await handshakesTogether([a, b], a.token(user), 10);
    const ended = await Promise.all(outcomes);
    expect(ended.filter((o) => o === 'connected'), JSON.stringify(ended)).to.have.length(2);
    expect(ended.filter((o) => o !== 'connected')).to.deep.equal(Array(8).fill('RATE_LIMITED'));
  });
});

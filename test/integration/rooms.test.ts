import { expect } from 'chai';
import sinon from 'sinon';
import { NEGATIVE_TTL_MS } from '../../src/rooms/MembershipCache.js';
import { collect, nextEvent, request } from '../support/events.js';
import { expectFailure, roundTrips, uniqueId, useStack } from '../support/scenarios.js';
import type { Stack } from '../support/stack.js';

/** A room at the chat-service with `count` members, each connected on one socket (not joined yet). */
async function roomOf(stack: Stack, count: number) {
  const roomId = uniqueId('room');
  const users = Array.from({ length: count }, () => uniqueId('member'));
  stack.chat.addRoom(roomId, users);
  const sockets = await Promise.all(users.map((u) => stack.connect(u)));
  return { roomId, users, sockets };
}

/** The membership questions the chat-service received for one user of one room. */
function membershipChecks(stack: Stack, roomId: string, userId: string): number {
  return stack.chat.requests.filter((r) => r.method === 'GET' && r.path === `/rooms/${roomId}/members/${userId}`).length;
}

/** Joins, joins again and sends a room message, each of which needs membership. */
async function joinTwiceAndPost(stack: Stack): Promise<{ roomId: string; userId: string }> {
  const { roomId, users, sockets } = await roomOf(stack, 1);
  expect(await request(sockets[0], 'join_room', { room_id: roomId })).to.deep.equal({ ok: true, room_id: roomId });
  expect(await request(sockets[0], 'join_room', { room_id: roomId })).to.deep.equal({ ok: true, room_id: roomId });
  expect((await request(sockets[0], 'send_message', { room_id: roomId, content: 'hi all' })).ok, 'send_message ack').to.equal(true);
  return { roomId, userId: users[0] };
}

describe('rooms', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false', MEMBERSHIP_CACHE_TTL_MS: '60000' });

  it('lets a member join and acks with the room id', async () => {
    const { roomId, users, sockets } = await roomOf(stack(), 1);

    expect(await request(sockets[0], 'join_room', { room_id: roomId })).to.deep.equal({ ok: true, room_id: roomId });

    expect(membershipChecks(stack(), roomId, users[0])).to.equal(1);
  });

  it('refuses a non-member with FORBIDDEN, who then gets none of the room\'s messages', async () => {
    const { roomId, sockets } = await roomOf(stack(), 1);
    const outsider = await stack().connect(uniqueId('outsider'));
    const seen = collect(outsider, 'receive_message');

    expectFailure(await request(outsider, 'join_room', { room_id: roomId }), 'FORBIDDEN');
    await request(sockets[0], 'join_room', { room_id: roomId });
    expect((await request(sockets[0], 'send_message', { room_id: roomId, content: 'members only' })).ok).to.equal(true);

    await roundTrips(outsider);
    expect(seen).to.deep.equal([]);
  });

  it('relays room messages to joined members until they leave the room', async () => {
    const { roomId, sockets } = await roomOf(stack(), 3);
    const [author, leaver, stayer] = sockets;
    for (const s of sockets) await request(s, 'join_room', { room_id: roomId });
    const first = nextEvent(leaver, 'receive_message');
    await request(author, 'send_message', { room_id: roomId, content: 'before' });
    expect((await first).message).to.include({ room_id: roomId, content: 'before' });

    expect(await request(leaver, 'leave_room', { room_id: roomId })).to.deep.equal({ ok: true, room_id: roomId });
    const afterLeaving = collect(leaver, 'receive_message');
    const toStayer = collect(stayer, 'receive_message');
    await request(author, 'send_message', { room_id: roomId, content: 'after' });

    await roundTrips(leaver, stayer);
    expect(toStayer.map((e) => e.message.content), 'still joined').to.deep.equal(['after']);
    expect(afterLeaving, 'after leave_room').to.deep.equal([]);
  });

  it('asks the chat-service once about a member while MEMBERSHIP_CACHE_TTL_MS=60000 holds the answer', async () => {
    const { roomId, userId } = await joinTwiceAndPost(stack());

    expect(membershipChecks(stack(), roomId, userId)).to.equal(1);
  });

  it('lets a user added after a refusal in once the brief refusal cache lapsed, long before MEMBERSHIP_CACHE_TTL_MS', async () => {
    const roomId = uniqueId('room');
    const late = uniqueId('late');
    stack().chat.addRoom(roomId, [uniqueId('owner')]);
    const socket = await stack().connect(late);
    const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    try {
      expectFailure(await request(socket, 'join_room', { room_id: roomId }), 'FORBIDDEN');
      expectFailure(await request(socket, 'join_room', { room_id: roomId }), 'FORBIDDEN');
      expect(membershipChecks(stack(), roomId, late), 'a refusal is kept briefly').to.equal(1);

      stack().chat.addRoom(roomId, [late]);
      clock.tick(NEGATIVE_TTL_MS);

      expect(await request(socket, 'join_room', { room_id: roomId })).to.deep.equal({ ok: true, room_id: roomId });
      expect(membershipChecks(stack(), roomId, late)).to.equal(2);
    } finally {
      clock.restore();
    }
  });
});

describe('rooms with MEMBERSHIP_CACHE_TTL_MS=0', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false', MEMBERSHIP_CACHE_TTL_MS: '0' });

  it('asks the chat-service about membership every time', async () => {
    const { roomId, userId } = await joinTwiceAndPost(stack());

    expect(membershipChecks(stack(), roomId, userId)).to.equal(3);
  });
});

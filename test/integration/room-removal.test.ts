import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import { collect, nextEvent, request } from '../support/events.js';
import { useGatewayPair } from '../support/gatewayPair.js';
import { expectFailure, roundTrips, uniqueId, useStack } from '../support/scenarios.js';
import type { Stack } from '../support/stack.js';

/** POST /api/v1/rooms/{room_id}/remove (contract section 5, v2). */

const API_KEY = 'k1';
const ENV = { PUSH_API_KEYS: API_KEY, RATE_LIMIT_ENABLED: 'false', MEMBERSHIP_CACHE_TTL_MS: '60000' };

/** The backend's call to the gateway; the body parsed. */
async function removeMembers(stack: Stack, roomId: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.url}/api/v1/rooms/${encodeURIComponent(roomId)}/remove`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** The chat-service removes the users from the room, then tells the gateway, as a backend does. */
function removeAtChatService(stack: Stack, roomId: string, userIds: string[]): void {
  for (const userId of userIds) stack.chat.rooms.get(roomId)!.delete(userId);
}

/** The membership questions the chat-service received for one user of one room. */
function membershipChecks(stack: Stack, roomId: string, userId: string): number {
  return stack.chat.requests.filter((r) => r.method === 'GET' && r.path === `/rooms/${roomId}/members/${userId}`).length;
}

async function joinAll(roomId: string, sockets: ClientSocket[]): Promise<void> {
  for (const socket of sockets) expect(await request(socket, 'join_room', { room_id: roomId })).to.deep.equal({ ok: true, room_id: roomId });
}

/** What a socket hears of the room from now on. */
function roomTraffic(socket: ClientSocket) {
  return { messages: collect(socket, 'receive_message'), typing: collect(socket, 'user_typing') };
}

/** The author posts and types in the room; `witness` (still a member) hears both before this resolves. */
async function postAndType(author: ClientSocket, witness: ClientSocket, roomId: string): Promise<void> {
  const heard = Promise.all([nextEvent(witness, 'receive_message'), nextEvent(witness, 'user_typing')]);
  expect((await request(author, 'send_message', { room_id: roomId, content: 'after the removal' })).ok, 'send_message').to.equal(true);
  expect((await request(author, 'typing', { room_id: roomId })).ok, 'typing').to.equal(true);
  const [message, typing] = await heard;
  expect(message.message).to.include({ room_id: roomId, content: 'after the removal' });
  expect(typing).to.include({ room_id: roomId });
}

describe('room removal: POST /api/v1/rooms/{room_id}/remove', () => {
  const stack = useStack(ENV);

  it("takes a removed member out of the room at once: room_removed, then none of the room's messages or typing", async () => {
    const roomId = uniqueId('room');
    const [author, gone, stayer, idle] = ['author', 'gone', 'stayer', 'idle'].map(uniqueId);
    stack().chat.addRoom(roomId, [author, gone, stayer, idle]);
    const [authorSocket, goneJoined, goneElsewhere, stayerSocket] = await Promise.all([author, gone, gone, stayer].map((u) => stack().connect(u)));
    await stack().connect(idle); // a member online but not in the room: not counted
    await joinAll(roomId, [authorSocket, goneJoined, stayerSocket]);
    const told = nextEvent(goneJoined, 'room_removed');
    const toldElsewhere = collect(goneElsewhere, 'room_removed');
    const heard = roomTraffic(goneJoined);

    removeAtChatService(stack(), roomId, [gone, idle]);
    const reply = await removeMembers(stack(), roomId, { user_ids: [gone, idle, uniqueId('offline')] });

    expect(reply).to.deep.equal({ status: 200, body: { removed: 1 } });
    expect(await told).to.deep.equal({ room_id: roomId });
    await postAndType(authorSocket, stayerSocket, roomId);
    await roundTrips(goneJoined, goneElsewhere);
    expect(heard, 'what the removed member heard of the room').to.deep.equal({ messages: [], typing: [] });
    expect(toldElsewhere, 'room_removed at the socket that was not in the room').to.deep.equal([]);
  });

  it('forgets the cached membership: the removed member is asked about again and refused', async () => {
    const roomId = uniqueId('room');
    const [author, gone] = ['author', 'gone'].map(uniqueId);
    stack().chat.addRoom(roomId, [author, gone]);
    const [authorSocket, goneSocket] = await Promise.all([author, gone].map((u) => stack().connect(u)));
    await joinAll(roomId, [authorSocket, goneSocket]);
    expect(membershipChecks(stack(), roomId, gone), 'asked once, then cached').to.equal(1);

    removeAtChatService(stack(), roomId, [gone]);
    expect((await removeMembers(stack(), roomId, { user_ids: [gone] })).body).to.deep.equal({ removed: 1 });

    expectFailure(await request(goneSocket, 'send_message', { room_id: roomId, content: 'still here?' }), 'FORBIDDEN');
    expectFailure(await request(goneSocket, 'typing', { room_id: roomId }), 'FORBIDDEN');
    expectFailure(await request(goneSocket, 'join_room', { room_id: roomId }), 'FORBIDDEN');
    expect(membershipChecks(stack(), roomId, gone), 'asked again after the removal').to.be.greaterThan(1);
  });

  it('answers 0 when none of the users was in the room, and removing twice is harmless', async () => {
    const roomId = uniqueId('room');
    const gone = uniqueId('gone');
    stack().chat.addRoom(roomId, [gone]);
    await joinAll(roomId, [await stack().connect(gone)]);
    expect((await removeMembers(stack(), roomId, { user_ids: [gone] })).body).to.deep.equal({ removed: 1 });
    expect((await removeMembers(stack(), roomId, { user_ids: [gone] })).body).to.deep.equal({ removed: 0 });
    expect((await removeMembers(stack(), uniqueId('room'), { user_ids: [gone] })).body).to.deep.equal({ removed: 0 });
  });

  it('rejects bad bodies with 400 VALIDATION_FAILED and removes nobody', async () => {
    const roomId = uniqueId('room');
    const member = uniqueId('member');
    stack().chat.addRoom(roomId, [member]);
    const socket = await stack().connect(member);
    await joinAll(roomId, [socket]);
    const told = collect(socket, 'room_removed');
    const bad: unknown[] = [{}, { user_ids: [] }, { user_ids: member }, { user_ids: [''] }, { user_ids: ['x'.repeat(129)] }, { user_ids: Array(1001).fill(member) }];
    for (const body of bad) {
      const reply = await removeMembers(stack(), roomId, body);
      expect(reply.status, JSON.stringify(body).slice(0, 60)).to.equal(400);
      expect(reply.body.error.code).to.equal('VALIDATION_FAILED');
    }
    await roundTrips(socket);
    expect(told).to.deep.equal([]);
    expect((await request(socket, 'send_message', { room_id: roomId, content: 'still in' })).ok).to.equal(true);
  });
});

describe('room removal across two instances on Redis', () => {
  const pair = useGatewayPair(ENV);

  it('takes the members out on both instances, counts each user once and makes both instances ask again', async () => {
    const { a, b } = pair();
    const roomId = uniqueId('room');
    const [author, both, onB, stayer] = ['author', 'both', 'onB', 'stayer'].map(uniqueId);
    a.chat.addRoom(roomId, [author, both, onB, stayer]);
    const authorSocket = await a.connect(author);
    const bothOnA = await a.connect(both);
    const bothOnB = await b.connect(both);
    const onBSocket = await b.connect(onB);
    const stayerSocket = await b.connect(stayer);
    await joinAll(roomId, [authorSocket, bothOnA, bothOnB, onBSocket, stayerSocket]);
    const removedSockets = [bothOnA, bothOnB, onBSocket];
    const told = removedSockets.map((s) => nextEvent(s, 'room_removed'));
    const heard = removedSockets.map(roomTraffic);
    const checksBefore = membershipChecks(a, roomId, both);

    removeAtChatService(a, roomId, [both, onB]);
    expect(await removeMembers(a, roomId, { user_ids: [both, onB] })).to.deep.equal({ status: 200, body: { removed: 2 } });

    expect(await Promise.all(told)).to.deep.equal(removedSockets.map(() => ({ room_id: roomId })));
    await postAndType(authorSocket, stayerSocket, roomId);
    await roundTrips(...removedSockets);
    expect(heard).to.deep.equal(removedSockets.map(() => ({ messages: [], typing: [] })));
    // B had cached `both` as a member when it joined there: it asks the chat-service again.
    expectFailure(await request(bothOnB, 'typing', { room_id: roomId }), 'FORBIDDEN');
    expectFailure(await request(bothOnA, 'typing', { room_id: roomId }), 'FORBIDDEN');
    expect(membershipChecks(a, roomId, both) - checksBefore, 'asked again by each instance').to.equal(2);
  });
});

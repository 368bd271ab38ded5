import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import { collect, nextEvent, request } from '../support/events.js';
import { expectFailure, roundTrips, uniqueId, useStack } from '../support/scenarios.js';
import type { Stack } from '../support/stack.js';

/** A typist and a receiver, each on two devices, plus a bystander. */
async function conversation(stack: Stack) {
  const [typist, receiver, bystander] = [uniqueId('typist'), uniqueId('receiver'), uniqueId('bystander')];
  const typistPhone = await stack.connect(typist);
  const typistLaptop = await stack.connect(typist);
  const receiverPhone = await stack.connect(receiver);
  const receiverLaptop = await stack.connect(receiver);
  const other = await stack.connect(bystander);
  return { typist, receiver, typistPhone, typistLaptop, receiverPhone, receiverLaptop, other };
}

/** A room whose members `joined` joined it from one socket each; `absent` are members who did not join. */
async function roomWith(stack: Stack, joined: string[], absent: string[] = []) {
  const roomId = uniqueId('room');
  stack.chat.addRoom(roomId, [...joined, ...absent]);
  const sockets: Record<string, ClientSocket> = {};
  for (const user of joined) {
    sockets[user] = await stack.connect(user);
    expect(await request(sockets[user], 'join_room', { room_id: roomId })).to.deep.equal({ ok: true, room_id: roomId });
  }
  for (const user of absent) sockets[user] = await stack.connect(user);
  return { roomId, sockets };
}

describe('typing indicators', () => {
  // A long timeout, so that no indicator ends by itself during these tests.
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false', TYPING_TIMEOUT_MS: '60000', TYPING_THROTTLE_MS: '1000' });

  it('acks typing and tells every device of the receiver, not the typist\'s other device', async () => {
    const c = await conversation(stack());
    const onTypistLaptop = collect(c.typistLaptop, 'user_typing');
    const onBystander = collect(c.other, 'user_typing');
    const onPhone = nextEvent(c.receiverPhone, 'user_typing');
    const onLaptop = nextEvent(c.receiverLaptop, 'user_typing');

    expect(await request(c.typistPhone, 'typing', { receiver_id: c.receiver })).to.deep.equal({ ok: true });

    const expected = { user_id: c.typist, receiver_id: c.receiver };
    expect(await onPhone).to.deep.equal(expected);
    expect(await onLaptop).to.deep.equal(expected);
    await roundTrips(c.typistLaptop, c.other);
    expect(onTypistLaptop, 'typist\'s other device').to.deep.equal([]);
    expect(onBystander, 'bystander').to.deep.equal([]);
  });

  it('relays stop_typing to the receiver as user_stop_typing', async () => {
    const c = await conversation(stack());
    await request(c.typistPhone, 'typing', { receiver_id: c.receiver });
    const onTypistLaptop = collect(c.typistLaptop, 'user_stop_typing');
    const onPhone = nextEvent(c.receiverPhone, 'user_stop_typing');
    const onLaptop = nextEvent(c.receiverLaptop, 'user_stop_typing');

    expect(await request(c.typistPhone, 'stop_typing', { receiver_id: c.receiver })).to.deep.equal({ ok: true });

    const expected = { user_id: c.typist, receiver_id: c.receiver };
    expect(await onPhone).to.deep.equal(expected);
    expect(await onLaptop).to.deep.equal(expected);
    await roundTrips(c.typistLaptop);
    expect(onTypistLaptop, 'typist\'s other device').to.deep.equal([]);
  });

  it('relays one user_typing for several typing events within TYPING_THROTTLE_MS', async () => {
    const c = await conversation(stack());
    const relayed = collect(c.receiverPhone, 'user_typing');
    for (let i = 0; i < 3; i++) {
      expect(await request(c.typistPhone, 'typing', { receiver_id: c.receiver })).to.deep.equal({ ok: true });
    }
    await roundTrips(c.receiverPhone);
    expect(relayed).to.deep.equal([{ user_id: c.typist, receiver_id: c.receiver }]);
  });

  it('relays room typing to the members who joined the room, never to the typist', async () => {
    const [typist, listener, absent] = [uniqueId('typist'), uniqueId('listener'), uniqueId('absent')];
    const { roomId, sockets } = await roomWith(stack(), [typist, listener], [absent]);
    const onTypist = collect(sockets[typist], 'user_typing');
    const onAbsent = collect(sockets[absent], 'user_typing');
    const onListener = nextEvent(sockets[listener], 'user_typing');

    expect(await request(sockets[typist], 'typing', { room_id: roomId })).to.deep.equal({ ok: true });

    expect(await onListener).to.deep.equal({ user_id: typist, room_id: roomId });
    await roundTrips(sockets[typist], sockets[absent]);
    expect(onTypist, 'typist').to.deep.equal([]);
    expect(onAbsent, 'member who did not join').to.deep.equal([]);
  });

  it('refuses room typing from a non-member with FORBIDDEN and tells nobody', async () => {
    const listener = uniqueId('listener');
    const { roomId, sockets } = await roomWith(stack(), [listener]);
    const outsider = await stack().connect(uniqueId('outsider'));
    const onListener = collect(sockets[listener], 'user_typing');

    expectFailure(await request(outsider, 'typing', { room_id: roomId }), 'FORBIDDEN');

    await roundTrips(sockets[listener]);
    expect(onListener).to.deep.equal([]);
  });

  it('tells the receiver the typist stopped when the typist disconnects while typing', async () => {
    const [typist, receiver] = [uniqueId('typist'), uniqueId('receiver')];
    const typistSocket = await stack().connect(typist);
    const receiverSocket = await stack().connect(receiver);
    await request(typistSocket, 'typing', { receiver_id: receiver });
    const stopped = nextEvent(receiverSocket, 'user_stop_typing');

    typistSocket.disconnect();

    expect(await stopped).to.deep.equal({ user_id: typist, receiver_id: receiver });
  });

  for (const event of ['typing', 'stop_typing']) {
    it(`rejects ${event} naming no target or both targets with VALIDATION_FAILED`, async () => {
      const receiver = uniqueId('receiver');
      const typist = await stack().connect(uniqueId('typist'));
      const receiverSocket = await stack().connect(receiver);
      const relayed = collect(receiverSocket, `user_${event}`);

      expectFailure(await request(typist, event, {}), 'VALIDATION_FAILED');
      expectFailure(await request(typist, event, { receiver_id: receiver, room_id: uniqueId('room') }), 'VALIDATION_FAILED');

      await roundTrips(receiverSocket);
      expect(relayed).to.deep.equal([]);
    });
  }
});

describe('typing indicators with TYPING_TIMEOUT_MS=200', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false', TYPING_TIMEOUT_MS: '200', TYPING_THROTTLE_MS: '1000' });

  it('sends user_stop_typing by itself after the last typing, without a stop_typing', async () => {
    const [typist, receiver] = [uniqueId('typist'), uniqueId('receiver')];
    const typistSocket = await stack().connect(typist);
    const receiverSocket = await stack().connect(receiver);
    const stops = collect(receiverSocket, 'user_stop_typing');
    const stopped = nextEvent(receiverSocket, 'user_stop_typing');

    await request(typistSocket, 'typing', { receiver_id: receiver });
    await roundTrips(receiverSocket);
    expect(stops, 'right after typing').to.deep.equal([]);

    expect(await stopped).to.deep.equal({ user_id: typist, receiver_id: receiver });
  });
});

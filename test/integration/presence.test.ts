import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import { collect, nextEvent, request, waitFor } from '../support/events.js';
import {
  connectCollecting,
  disconnectAndSettle,
  expectFailure,
  expectIsoTime,
  health,
  roundTrips,
  uniqueId,
  useStack,
  within,
} from '../support/scenarios.js';
import type { Stack } from '../support/stack.js';
import { STATUS_UPDATES, statusOutcomes, statusUpdatesOf } from '../support/statusUpdates.js';
import { scrape } from '../support/metrics.js';

/** A connected socket subscribed to the presence of `userIds`. */
async function subscriber(stack: Stack, userIds: string[]): Promise<ClientSocket> {
  const socket = await stack.connect(uniqueId('watcher'));
  expect((await request(socket, 'presence_subscribe', { user_ids: userIds })).ok, 'presence_subscribe ack').to.equal(true);
  return socket;
}

/** The status updates the auth-service received for one user, in order (single calls or batch items). */
const statusCalls = (stack: Stack, userId: string) => statusUpdatesOf(stack.auth, userId);

const tooManyIds = () => Array.from({ length: 1001 }, (_, i) => `u${i}`);

describe('presence', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false' });

  it('answers presence_subscribe with the subscribed users who are already online', async () => {
    const [online, offline] = [uniqueId('online'), uniqueId('offline')];
    await stack().connect(online);
    const watcher = await stack().connect(uniqueId('watcher'));

    expect(await request(watcher, 'presence_subscribe', { user_ids: [online, offline] })).to.deep.equal({ ok: true, online: [online] });
  });

  it('announces user_connected to subscribers on the user\'s first socket only', async () => {
    const user = uniqueId('user');
    const watcher = await subscriber(stack(), [user]);
    const announced = collect(watcher, 'user_connected');

    await stack().connect(user);
    await roundTrips(watcher);
    expect(announced).to.have.length(1);
    expect(announced[0]).to.have.all.keys('user_id', 'at').and.include({ user_id: user });
    expectIsoTime(announced[0].at, 'at');

    await stack().connect(user);
    await roundTrips(watcher);
    expect(announced, 'after a second device').to.have.length(1);
  });

  it('announces user_disconnected only when the user\'s last socket goes', async () => {
    const user = uniqueId('user');
    const phone = await stack().connect(user);
    const laptop = await stack().connect(user);
    const watcher = await subscriber(stack(), [user]);
    const gone = collect(watcher, 'user_disconnected');

    await disconnectAndSettle(stack(), phone);
    await roundTrips(watcher);
    expect(gone, 'one device left').to.deep.equal([]);

    laptop.disconnect();
    await waitFor(() => gone.length > 0, 3000, 'user_disconnected');
    await roundTrips(watcher);
    expect(gone).to.have.length(1);
    expect(gone[0]).to.have.all.keys('user_id', 'last_seen').and.include({ user_id: user });
    expectIsoTime(gone[0].last_seen, 'last_seen');
  });

  it('tells the members of a room the user had joined that the user disconnected', async () => {
    const [leaver, member] = [uniqueId('leaver'), uniqueId('member')];
    const roomId = uniqueId('room');
    stack().chat.addRoom(roomId, [leaver, member]);
    const leaverSocket = await stack().connect(leaver);
    const memberSocket = await stack().connect(member);
    for (const s of [leaverSocket, memberSocket]) await request(s, 'join_room', { room_id: roomId });
    const gone = nextEvent(memberSocket, 'user_disconnected');

    leaverSocket.disconnect();

    expect(await gone).to.include({ user_id: leaver });
  });

  it('stops announcing a user after presence_unsubscribe', async () => {
    const user = uniqueId('user');
    const quitter = await subscriber(stack(), [user]);
    const stayer = await subscriber(stack(), [user]);
    const toQuitter = collect(quitter, 'user_connected');

    expect(await request(quitter, 'presence_unsubscribe', { user_ids: [user] })).to.deep.equal({ ok: true });
    const toStayer = nextEvent(stayer, 'user_connected');
    const socket = await stack().connect(user);
    expect(await toStayer).to.include({ user_id: user });

    const gone = nextEvent(stayer, 'user_disconnected');
    const quitterGone = collect(quitter, 'user_disconnected');
    socket.disconnect();
    await gone;
    await roundTrips(quitter);
    expect(toQuitter, 'user_connected').to.deep.equal([]);
    expect(quitterGone, 'user_disconnected').to.deep.equal([]);
  });

  it('lists online users with get_online_users, all of them or among the ids asked', async () => {
    const [a, b, offline] = [uniqueId('online'), uniqueId('online'), uniqueId('offline')];
    const socket = await stack().connect(a);
    await stack().connect(b);

    const all = await request(socket, 'get_online_users', {});
    expect(all.ok).to.equal(true);
    expect(all.users).to.include.members([a, b]).and.not.include(offline);

    expect(await request(socket, 'get_online_users', { user_ids: [a, offline, b] })).to.deep.equal({ ok: true, users: [a, b] });
  });

  it('rejects more than 1000 user ids with VALIDATION_FAILED', async () => {
    const socket = await stack().connect(uniqueId('user'));

    expectFailure(await request(socket, 'get_online_users', { user_ids: tooManyIds() }), 'VALIDATION_FAILED');
    expectFailure(await request(socket, 'presence_subscribe', { user_ids: tooManyIds() }), 'VALIDATION_FAILED');
  });

  it('caps one socket at 1000 presence subscriptions, counting each user once', async () => {
    const socket = await stack().connect(uniqueId('user'));
    const first = Array.from({ length: 1000 }, (_, i) => `cap-${i}`);

    expect((await request(socket, 'presence_subscribe', { user_ids: first })).ok).to.equal(true);
    expect((await request(socket, 'presence_subscribe', { user_ids: first.slice(0, 10) })).ok, 'already held').to.equal(true);
    expectFailure(await request(socket, 'presence_subscribe', { user_ids: ['one-more'] }), 'VALIDATION_FAILED');
    expect((await request(socket, 'presence_unsubscribe', { user_ids: ['cap-0'] })).ok).to.equal(true);
    expect((await request(socket, 'presence_subscribe', { user_ids: ['one-more'] })).ok, 'room freed').to.equal(true);
  });

  it('reports the first socket as online and the last as offline to the auth-service, once each', async () => {
    const user = uniqueId('user');
    const phone = await stack().connect(user);
    await waitFor(() => statusCalls(stack(), user).length > 0, 3000, 'online status update');
    const laptop = await stack().connect(user);
    const watcher = await subscriber(stack(), [user]);
    const gone = nextEvent(watcher, 'user_disconnected');

    await disconnectAndSettle(stack(), phone);
    laptop.disconnect();
    const { last_seen } = await gone;
    await waitFor(() => statusCalls(stack(), user).length > 1, 3000, 'offline status update');

    expect(statusCalls(stack(), user)).to.deep.equal([{ status: 'online' }, { status: 'offline', last_seen }]);
    expect(stack().auth.statusHistory.filter((s) => s.user_id === user).map((s) => s.status)).to.deep.equal(['online', 'offline']);
  });
});

describe('presence with PRESENCE_BROADCAST=global', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false', PRESENCE_BROADCAST: 'global' });

  it('greets a new socket with online_users listing who is online', async () => {
    const [a, b] = [uniqueId('online'), uniqueId('online')];
    await stack().connect(a);
    await stack().connect(b);

    const { socket, seen } = await connectCollecting(stack(), uniqueId('newcomer'), ['online_users']);
    await roundTrips(socket);

    expect(seen.online_users).to.have.length(1);
    expect(seen.online_users[0]).to.have.all.keys('users');
    expect(seen.online_users[0].users).to.include.members([a, b]);
  });

  it('announces user_connected to every socket, subscribed or not', async () => {
    const others = [await stack().connect(uniqueId('other')), await stack().connect(uniqueId('other'))];
    await roundTrips(...others); // lets the others' own announcements arrive first
    const newcomer = uniqueId('newcomer');
    const announced = others.map((s) => nextEvent(s, 'user_connected'));

    await stack().connect(newcomer);

    for (const event of await Promise.all(announced)) expect(event).to.include({ user_id: newcomer });
  });
});

describe('presence when the auth-service fails status updates', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false', AUTH_SERVICE_RETRIES: '0', AUTH_SERVICE_TIMEOUT_MS: '10000' });
  afterEach(() => stack().auth.faults.clear());

  /** Connects while status updates fail as `fault` says; the connection must not wait for them. */
  async function connectDespite(fault: { status?: number; hang?: boolean }) {
    stack().auth.faults.add({ ...fault, match: STATUS_UPDATES });
    const user = uniqueId('user');
    const socket = await within(stack().connect(user), 3000, 'connected');
    await waitFor(() => statusCalls(stack(), user).length > 0, 3000, 'status update attempt');
    const online = await request(socket, 'get_online_users', { user_ids: [user] });
    expect(online).to.deep.equal({ ok: true, users: [user] });
    expect(stack().auth.statusHistory.filter((s) => s.user_id === user), 'stored statuses').to.deep.equal([]);
  }

  it('still accepts connections when the auth-service answers 500, and counts the update as failed', async () => {
    const failedBefore = statusOutcomes(await scrape(stack())).failed;
    await connectDespite({ status: 500 });
    await waitFor(async () => statusOutcomes(await scrape(stack())).failed === failedBefore + 1, 3000, 'the failure counted');
  });

  it('still accepts connections while the auth-service hangs', async () => {
    await connectDespite({ hang: true });
  });
});

describe('presence in /health', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false' });

  it('counts open connections and online users', async () => {
    const [a, b] = [uniqueId('user'), uniqueId('user')];
    const phone = await stack().connect(a);
    await stack().connect(a);
    await stack().connect(b);
    expect(await health(stack())).to.include({ status: 'ok', connections: 3, online_users: 2 });

    await disconnectAndSettle(stack(), phone);
    expect(await health(stack())).to.include({ connections: 2, online_users: 2 });
  });
});

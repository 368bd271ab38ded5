import { expect } from 'chai';
import { createGateway, type Gateway } from '../../src/app.js';
import { createLogger } from '../../src/observability/logger.js';
import { GatewayClient, isGatewayClientError, tokenExpiresAt, type GatewayClientError, type GatewayClientOptions, type StateChange } from '@chat-gateway/client';
import { MESSAGE_WRITES, messageWrites } from '../support/chatWrites.js';
import { sleep, waitFor } from '../support/events.js';
import { startStack, type Stack } from '../support/stack.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Typed clients of one stack, each asking the auth-service for its tokens; all closed after each test. */
function clients(getStack: () => Stack) {
  const open: GatewayClient[] = [];
  afterEach(() => open.splice(0).forEach((c) => c.close()));
  return {
    make(userId: string, opts: Partial<GatewayClientOptions> & { ttlS?: number } = {}): GatewayClient {
      const { ttlS, ...rest } = opts;
      const client = new GatewayClient(getStack().url, { getToken: () => getStack().token(userId, ttlS), reconnectDelayMs: 100, ...rest });
      open.push(client);
      return client;
    },
    async connect(userId: string, opts: Partial<GatewayClientOptions> & { ttlS?: number } = {}): Promise<GatewayClient> {
      const client = this.make(userId, opts);
      await client.connect();
      return client;
    },
  };
}

/** The rejection of `promise`, which must reject with a GatewayClientError. */
async function rejection(promise: Promise<unknown>): Promise<GatewayClientError> {
  const e = await promise.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
  if (!isGatewayClientError(e)) throw e;
  return e;
}

/** Every state change of a client from now on. */
function states(client: GatewayClient): StateChange[] {
  const seen: StateChange[] = [];
  client.onStateChange((c) => seen.push(c));
  return seen;
}

const storedPosts = (stack: Stack) => messageWrites(stack.chat);
const storedWith = (stack: Stack, content: string) => [...stack.chat.messages.values()].filter((m) => m.content === content);

describe('typed client (GatewayClient) against a real gateway', () => {
  let stack: Stack;
  const users = clients(() => stack);
  before(async () => {
    stack = await startStack({ RATE_LIMIT_ENABLED: 'false', CHAT_SERVICE_RETRIES: '0', CHAT_SERVICE_TIMEOUT_MS: '2000', PUSH_API_KEYS: 'k1' });
    stack.chat.addRoom('general', ['alice', 'bob']);
    stack.chat.addRoom('staff', ['carol']);
  });
  afterEach(() => stack.chat.faults.clear());
  after(() => stack.stop());

  it('connects with the server greeting, and resolves a send with the stored message that the receiver gets', async () => {
    const alice = users.make('alice');
    expect(await alice.connect()).to.include({ user_id: 'alice' });
    expect(alice.state).to.equal('connected');
    const bob = await users.connect('bob');
    const received = new Promise<string>((resolve) => bob.once('receive_message', ({ message }) => resolve(message.message_id)));

    const { message } = await alice.sendMessage({ receiver_id: 'bob', content: 'typed hello' });

    expect(message).to.include({ sender_id: 'alice', receiver_id: 'bob', content: 'typed hello', message_type: 'text' });
    expect(message.client_msg_id, 'client_msg_id added by the client').to.match(UUID);
    expect(await received).to.equal(message.message_id);
    expect(storedPosts(stack).at(-1)!.idempotencyKey).to.equal(`alice:${message.client_msg_id}`);
  });

  it('rejects refused calls with the contract code, not retrying the ones that cannot succeed', async () => {
    const alice = await users.connect('alice');
    const posts = storedPosts(stack).length;

    const invalid = await rejection(alice.sendMessage({ receiver_id: 'bob', content: '   ' }));
    expect(invalid).to.include({ code: 'VALIDATION_FAILED', retryable: false, event: 'send_message' });
    expect(storedPosts(stack)).to.have.length(posts);

    expect(await rejection(alice.joinRoom({ room_id: 'staff' }))).to.include({ code: 'FORBIDDEN', retryable: false, event: 'join_room' });
    expect(await rejection(alice.markRead({ message_id: 'm_missing' }))).to.include({ code: 'NOT_FOUND', retryable: false });
  });

  it('rejects a refused handshake with its code and stays disconnected', async () => {
    const client = new GatewayClient(stack.url, { token: 'not-a-jwt' });
    const error = await rejection(client.connect());
    expect(error).to.include({ code: 'AUTH_INVALID', retryable: false });
    expect(client.state).to.equal('disconnected');
    expect(await rejection(client.getOnlineUsers())).to.include({ code: 'DISCONNECTED' });
    client.close();
  });

  it('rejects with a retryable TIMEOUT when the ack does not come within ackTimeoutMs', async () => {
    const alice = await users.connect('alice', { ackTimeoutMs: 300 });
    stack.chat.faults.add({ hang: true, match: { method: 'GET', path: /^\/rooms\/slow\/members\// } });
    expect(await rejection(alice.joinRoom({ room_id: 'slow' }))).to.include({ code: 'TIMEOUT', retryable: true, event: 'join_room' });
  });

  it('retries send_message after SERVICE_UNAVAILABLE with the same client_msg_id, and the message is stored once', async () => {
    const alice = await users.connect('alice', { retryDelayMs: 50 });
    stack.chat.faults.add({ status: 503, times: 1, match: MESSAGE_WRITES });
    const before = storedPosts(stack).length;

    const { message } = await alice.sendMessage({ receiver_id: 'bob', content: 'after a 503', client_msg_id: 'retry-1' });

    const attempts = storedPosts(stack).slice(before);
    expect(attempts.map((w) => w.idempotencyKey)).to.deep.equal(['alice:retry-1', 'alice:retry-1']);
    expect(storedWith(stack, 'after a 503').map((m) => m.message_id)).to.deep.equal([message.message_id]);
  });

  it('gives up after maxSendAttempts and rejects with the last retryable error', async () => {
    const alice = await users.connect('alice', { retryDelayMs: 20, maxSendAttempts: 2 });
    stack.chat.faults.add({ status: 503, times: 2, match: MESSAGE_WRITES });
    const before = storedPosts(stack).length;
    expect(await rejection(alice.sendMessage({ receiver_id: 'bob', content: 'never stored' }))).to.include({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(storedPosts(stack).length - before).to.equal(2);
    expect(storedWith(stack, 'never stored')).to.be.empty;
  });

  it('resends a message whose connection dropped before the ack, after reconnecting, and it is stored once', async () => {
    const alice = await users.connect('alice');
    const seen = states(alice);
    const firstSocket = alice.session!.socket_id;
    stack.chat.faults.add({ delayMs: 300, times: 1, match: MESSAGE_WRITES });
    const before = storedPosts(stack).length;

    const sending = alice.sendMessage({ receiver_id: 'bob', content: 'through a dropped connection' });
    await waitFor(() => storedPosts(stack).length > before, 3000, 'the first attempt at the chat-service');
    stack.gateway.io.sockets.sockets.get(firstSocket)!.conn.close(); // the network drops
    const { message } = await sending;

    expect(seen.map((s) => s.state)).to.include.members(['reconnecting', 'connected']);
    expect(alice.session!.socket_id).to.not.equal(firstSocket);
    const keys = storedPosts(stack).slice(before).map((w) => w.idempotencyKey);
    expect(keys).to.have.length(2);
    expect(keys[1]).to.equal(keys[0]);
    expect(storedWith(stack, 'through a dropped connection').map((m) => m.message_id)).to.deep.equal([message.message_id]);
  });

  it('forgets a room the backend removed it from, and does not join it again after reconnecting', async () => {
    stack.chat.addRoom('book-club', ['dave']);
    const refused: GatewayClientError[] = [];
    const dave = await users.connect('dave', { onError: (e) => refused.push(e) });
    await dave.joinRoom({ room_id: 'book-club' });
    const told = new Promise((resolve) => dave.once('room_removed', resolve));
    stack.chat.rooms.get('book-club')!.delete('dave');
    const res = await fetch(`${stack.url}/api/v1/rooms/book-club/remove`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k1' },
      body: JSON.stringify({ user_ids: ['dave'] }),
    });
    expect(res.status).to.equal(200);
    expect(await told).to.deep.equal({ room_id: 'book-club' });

    const firstSocket = dave.session!.socket_id;
    stack.gateway.io.sockets.sockets.get(firstSocket)!.conn.close(); // the network drops
    await waitFor(() => dave.state === 'connected' && dave.session?.socket_id !== firstSocket, 5000, 'dave back');

    expect(refused.map((e) => `${e.event} ${e.code}`), 'rejoins refused').to.deep.equal([]);
  });

  it('keeps the socket connected past the first token’s expiry by refreshing it through getToken', async () => {
    const tokens: string[] = [];
    const alice = await users.connect('alice', {
      getToken: () => {
        tokens.push(stack.token('alice', 2));
        return tokens.at(-1)!;
      },
    });
    const socketId = alice.session!.socket_id;
    const expired: unknown[] = [];
    alice.on('error', (e) => expired.push(e));

    await sleep(tokenExpiresAt(tokens[0])! - Date.now() + 500);

    expect(tokens.length, 'getToken asked again before expiry').to.be.greaterThan(1);
    expect(expired).to.be.empty;
    expect(alice.session?.socket_id).to.equal(socketId);
    expect((await alice.getOnlineUsers({ user_ids: ['alice'] })).users).to.deep.equal(['alice']);
  });

  it('reconnects with a new token from getToken when the server ends an expired session', async () => {
    let asked = 0;
    const alice = await users.connect('alice', { autoRefresh: false, getToken: () => (asked++, stack.token('alice', 1)) });
    const firstSocket = alice.session!.socket_id;
    const errors: string[] = [];
    alice.on('error', (e) => errors.push(e.code));

    await waitFor(() => alice.session !== undefined && alice.session.socket_id !== firstSocket, 4000, 'a new session');

    expect(errors).to.deep.equal(['AUTH_EXPIRED']);
    expect(asked).to.equal(2);
    expect(alice.state).to.equal('connected');
  });

  it('rejects calls with CLOSED after close() and does not reconnect', async () => {
    const alice = await users.connect('alice');
    alice.close();
    expect(alice.state).to.equal('closed');
    expect(await rejection(alice.sendMessage({ receiver_id: 'bob', content: 'too late' }))).to.include({ code: 'CLOSED', retryable: false });
    await sleep(150);
    expect(stack.gateway.io.sockets.sockets.size).to.equal(0);
  });
});

describe('typed client under a rate limit', () => {
  let stack: Stack;
  const users = clients(() => stack);
  before(async () => {
    stack = await startStack({ RATE_LIMIT_MESSAGES: '1/1' });
  });
  after(() => stack.stop());

  it('waits retry_after_ms after RATE_LIMITED and sends again, so both messages are stored', async () => {
    const alice = await users.connect('alice');
    const emitted: string[] = [];
    alice.socket.onAnyOutgoing((event, payload: { client_msg_id?: string }) => emitted.push(`${event}:${payload.client_msg_id}`));
    const first = alice.sendMessage({ receiver_id: 'bob', content: 'first of two' });
    const second = alice.sendMessage({ receiver_id: 'bob', content: 'second of two' });
    const [, { message }] = await Promise.all([first, second]);
    expect(emitted.filter((e) => e === `send_message:${message.client_msg_id}`), 'the refused send was sent again').to.have.length(2);
    expect(storedWith(stack, 'first of two')).to.have.length(1);
    expect(storedWith(stack, 'second of two')).to.have.length(1);
    expect(storedPosts(stack), 'a refused attempt never reaches the chat-service').to.have.length(2);
  });
});

describe('typed client across a gateway restart (server_shutdown)', () => {
  let stack: Stack;
  let replacement: Gateway | undefined;
  const users = clients(() => stack);
  before(async () => {
    stack = await startStack({ RATE_LIMIT_ENABLED: 'false', RECONNECT_AFTER_MS: '200', SHUTDOWN_TIMEOUT_MS: '1000' });
    stack.chat.addRoom('general', ['alice', 'bob']);
  });
  after(async () => {
    await replacement?.stop();
    await stack.stop();
  });

  it('reconnects once reconnect_after_ms has passed and rejoins its rooms, so room messages flow again', async () => {
    const alice = await users.connect('alice');
    const bob = await users.connect('bob');
    await Promise.all([alice.joinRoom({ room_id: 'general' }), bob.joinRoom({ room_id: 'general' })]);
    const seen = states(bob);
    const shutdown = new Promise<number>((resolve) => bob.once('server_shutdown', (p) => resolve(p.reconnect_after_ms)));

    await stack.gateway.stop();
    const samePort = { ...stack.gateway.config, port: Number(new URL(stack.url).port) };
    replacement = createGateway(samePort, { logger: createLogger({ level: 'error', service: 'test', instanceId: 'replacement', silent: true }) });
    await replacement.listen();

    expect(await shutdown).to.equal(200);
    await waitFor(() => alice.state === 'connected' && bob.state === 'connected', 5000, 'both clients back');
    const waiting = seen.find((s) => s.reason === 'server_shutdown' && s.reconnect_in_ms !== undefined);
    expect(waiting?.state).to.equal('reconnecting');
    expect(waiting!.reconnect_in_ms).to.be.at.least(200);

    const received = new Promise<string>((resolve) => bob.once('receive_message', ({ message }) => resolve(message.content)));
    await alice.sendMessage({ room_id: 'general', content: 'back in #general' });
    expect(await received).to.equal('back in #general');
  });
});

import { expect } from 'chai';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { GatewayClient, type StateChange } from '@chat-gateway/client';
import { connectError, nextEvent, request, sleep, waitFor } from '../support/events.js';
import { counter, scrape } from '../support/metrics.js';
import { startStack, type Stack } from '../support/stack.js';

/** Contract section 1 (v2): handshakes beyond what the instance serves promptly get SERVER_BUSY. */

const MAX_PENDING = 2;
const VERIFY = { method: 'POST', path: /^\/auth\/verify$/ };

describe('admission control of handshakes (SERVER_BUSY)', () => {
  let stack: Stack;
  const opened: Array<{ close(): void }> = [];
  let heldUsers = 0;
  before(async () => {
    // Remote verification that the auth-service holds keeps handshakes in progress: a real overload.
    stack = await startStack({
      AUTH_MODE: 'remote',
      AUTH_SERVICE_TIMEOUT_MS: '20000',
      HANDSHAKE_MAX_PENDING: String(MAX_PENDING),
      HANDSHAKE_RETRY_AFTER_MS: '100',
    });
  });
  afterEach(() => {
    stack.auth.faults.clear();
    opened.splice(0).forEach((c) => c.close());
  });
  after(() => stack.stop());

  /** Fills every handshake slot with clients whose token verification the auth-service holds. */
  async function overload(): Promise<ClientSocket[]> {
    stack.auth.faults.add({ hang: true, match: VERIFY });
    // Users of their own: a token verified before would come from the gateway's cache.
    const held = Array.from({ length: MAX_PENDING }, () => stack.client({ token: stack.token(`held${++heldUsers}`) }));
    await waitFor(() => stack.auth.faults.holding === MAX_PENDING, 3000, 'both verifications held');
    return held;
  }

  const verifyCalls = () => stack.auth.requests.filter((r) => r.method === VERIFY.method && VERIFY.path.test(r.path)).length;
  const busyRefusals = async () => counter(await scrape(stack), 'gateway_connections_rejected_total', { reason: 'SERVER_BUSY' });

  it('refuses a handshake beyond the bound at once with SERVER_BUSY and retry_after_ms; the accepted ones complete', async () => {
    const before = await busyRefusals();
    const bystander = await stack.connect('bystander');
    const held = await overload();

    const verifications = verifyCalls();
    const err = await connectError(stack.client({ token: stack.token('late') }));
    expect(err.message).to.equal('server_busy');
    expect(err.data).to.have.all.keys('code', 'retry_after_ms');
    expect(err.data.code).to.equal('SERVER_BUSY');
    expect(err.data.retry_after_ms).to.be.a('number').and.satisfy(Number.isInteger).and.at.least(0);
    expect(verifyCalls(), 'a refused handshake costs no verification').to.equal(verifications);

    const greetings = held.map((socket) => nextEvent(socket, 'connected'));
    stack.auth.faults.release();
    expect((await Promise.all(greetings)).map((g) => g.user_id)).to.have.members(['held1', 'held2']);
    expect(await busyRefusals()).to.equal(before + 1);
    expect(bystander.connected, 'a connected socket is not disturbed').to.equal(true);
    expect((await request(bystander, 'get_online_users', { user_ids: ['held1', 'held2', 'late'] })).users).to.have.members(['held1', 'held2']);
  });

  it('lets the typed client in through SERVER_BUSY on its first connect, after retry_after_ms', async () => {
    await overload();
    const client = new GatewayClient(stack.url, { getToken: () => stack.token('typed') });
    opened.push(client);
    const seen: StateChange[] = [];
    client.onStateChange((change) => {
      seen.push(change);
      if (change.reason === 'server_busy') stack.auth.faults.release();
    });

    const greeting = await client.connect();
    expect(greeting.user_id).to.equal('typed');
    const busy = seen.find((s) => s.reason === 'server_busy');
    expect(busy?.state).to.equal('connecting');
    expect(busy?.error).to.include({ code: 'SERVER_BUSY', retryable: true });
    expect(busy?.reconnect_in_ms).to.be.a('number');
    expect(client.state).to.equal('connected');
  });

  it('lets the typed client back in through SERVER_BUSY when it reconnects', async () => {
    const client = new GatewayClient(stack.url, { getToken: () => stack.token('roamer'), reconnectDelayMs: 50 });
    opened.push(client);
    await client.connect();
    await overload();
    const seen: StateChange[] = [];
    client.onStateChange((change) => {
      seen.push(change);
      if (change.reason === 'server_busy') stack.auth.faults.release();
    });

    client.socket.io.engine.close(); // the network drops: socket.io-client reconnects by itself
    await waitFor(() => client.state === 'connected', 10_000, 'the client back');
    expect(seen.find((s) => s.reason === 'server_busy')).to.deep.include({ state: 'reconnecting' });
    expect((await client.getOnlineUsers({ user_ids: ['roamer'] })).users).to.deep.equal(['roamer']);
  });

  it('lets a plain socket.io-client in with the README snippet (connect again after retry_after_ms)', async () => {
    await overload();
    const refusals: unknown[] = [];
    // The README's snippet, as a user would write it:
    const socket = io(stack.url, { auth: { token: stack.token('plain') }, transports: ['websocket'] });
    socket.on('connect_error', (err: Error & { data?: { code?: string; retry_after_ms?: number } }) => {
      if (err.data?.code === 'SERVER_BUSY') setTimeout(() => socket.connect(), err.data.retry_after_ms);
    });
    opened.push(socket);
    socket.on('connect_error', (err: Error & { data?: unknown }) => {
      refusals.push(err.data);
      stack.auth.faults.release();
    });

    const greeting = await nextEvent(socket, 'connected', 10_000);
    expect(greeting.user_id).to.equal('plain');
    expect(refusals).to.have.length.at.least(1);
    expect(refusals[0]).to.deep.include({ code: 'SERVER_BUSY' });
  });

  it('refuses with SERVER_BUSY while the event loop runs late, and admits again once it does not', async () => {
    const strict = await startStack({ HANDSHAKE_MAX_LOOP_DELAY_MS: '50' });
    try {
      // The monitor records intervals from its second tick on (every 20 ms) ...
      await sleep(100);
      // ... and any handshake reads the delay, so the window measured next starts here.
      await strict.connect('early').catch(() => undefined);
      // A second of synchronous work: every timer of the process fires a second late.
      const until = Date.now() + 1000;
      while (Date.now() < until);
      await sleep(1); // the monitor's timer, overdue, records the stall before any timer set now
      const err = await connectError(strict.client({ token: strict.token('late') }));
      expect(err.data).to.deep.include({ code: 'SERVER_BUSY' });
      // The delay is measured over windows of 200 ms: a later one finds the loop on time.
      await waitFor(() => strict.connect('late').then(() => true, () => false), 10_000, 'admitted again');
    } finally {
      await strict.stop();
    }
  });
});

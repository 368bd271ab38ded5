import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { SERVICE_NAME } from '../../src/app.js';
import { startAuthService } from '../../src/reference/authService.js';
import { startChatService } from '../../src/reference/chatService.js';
import { MESSAGE_WRITES, messageWrites } from '../support/chatWrites.js';
import { collect, connectError, nextEvent, request, waitFor } from '../support/events.js';
import { gatewayEnv, runToExit, spawnGateway, type GatewayProcess } from '../support/gatewayProcess.js';
import { counter, sample, samples, scrape } from '../support/metrics.js';
import { expectIsoTime, health, uniqueId, useStack, within } from '../support/scenarios.js';
import { TEST_SECRET, startStack, type AuthStandIn, type ChatStandIn, type Stack } from '../support/stack.js';

/** Holds every message write of the chat stand-in for `delayMs` before storing it. */
function delayMessages(chat: ChatStandIn, delayMs: number): void {
  chat.faults.add({ delayMs, match: MESSAGE_WRITES });
}

const messagePosts = (chat: ChatStandIn) => messageWrites(chat);

describe('lifecycle: probes and metrics', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false' });

  it('GET /health answers 200 with the service, instance and live connection counts', async () => {
    const before = await health(stack());
    const alice = await stack().connect(uniqueId('alice'));
    await stack().connect(uniqueId('bob'));
    const body: any = await health(stack());
    expect(body).to.include({ status: 'ok', service: SERVICE_NAME, instance_id: stack().gateway.config.instanceId });
    expect(body.connections).to.equal(before.connections + 2);
    expect(body.online_users).to.equal(before.online_users + 2);
    expect(body.uptime_s).to.be.a('number').at.least(0);
    expectIsoTime(body.timestamp, 'timestamp');

    alice.disconnect();
    await waitFor(
      async () => {
        const now = await health(stack());
        return now.connections === before.connections + 1 && now.online_users === before.online_users + 1;
      },
      3000,
      'one connection and one online user fewer',
    );
  });

  it('sends security headers (helmet) and no X-Powered-By', async () => {
    for (const path of ['/health', '/no-such-endpoint']) {
      const res = await fetch(`${stack().url}${path}`);
      expect(res.headers.get('x-content-type-options'), path).to.equal('nosniff');
      expect(res.headers.get('x-frame-options'), path).to.be.a('string');
      expect(res.headers.get('content-security-policy'), path).to.be.a('string');
      expect(res.headers.get('x-powered-by'), path).to.equal(null);
    }
  });

  it('GET /ready answers 200 while the gateway accepts connections', async () => {
    const res = await fetch(`${stack().url}/ready`);
    expect(res.status).to.equal(200);
  });

  it('GET /metrics exposes gateway, service-client, rate-limit and process metrics', async () => {
    const aliceId = uniqueId('alice');
    const bobId = uniqueId('bob');
    const alice = await stack().connect(aliceId);
    await stack().connect(bobId);
    const before = await scrape(stack());
    const ack = await request(alice, 'send_message', { receiver_id: bobId, content: 'count me' });
    expect(ack.ok).to.equal(true);

    const text = await scrape(stack());
    const probe: any = await health(stack());
    expect(sample(text, 'gateway_connections')).to.equal(probe.connections);
    expect(sample(text, 'gateway_online_users')).to.equal(probe.online_users);
    const sent = { event: 'send_message', outcome: 'ok' };
    expect(counter(text, 'gateway_events_total', sent)).to.equal(counter(before, 'gateway_events_total', sent) + 1);
    expect(samples(text, 'gateway_handler_duration_seconds_bucket').some((s) => s.labels.event === 'send_message')).to.equal(true);
    expect(samples(text, 'gateway_outgoing_request_duration_seconds_bucket').some((s) => s.labels.service === 'chat')).to.equal(true);
    expect(sample(text, 'gateway_circuit_breaker_state', { service: 'chat' }), 'chat breaker closed').to.equal(0);
    expect(text).to.match(/^# TYPE gateway_rate_limit_rejections_total counter$/m);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).to.be.a('number');
    expect(sample(text, 'process_resident_memory_bytes')).to.be.above(0);
  });
});

describe('lifecycle: graceful stop in process', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  /**
   * Alice sends a message that the chat-service holds for 500 ms; once it is there, the gateway
   * is told to stop. Nothing is awaited beyond that, so the test observes the drain itself.
   */
  async function stopWithMessageInFlight() {
    stack = await startStack({ RATE_LIMIT_ENABLED: 'false', SHUTDOWN_TIMEOUT_MS: '5000' });
    const s = stack;
    const alice = await s.connect('alice');
    delayMessages(s.chat, 500);
    const order: string[] = [];
    const shutdown = nextEvent(alice, 'server_shutdown');
    alice.on('server_shutdown', () => order.push('server_shutdown'));
    const disconnected = nextEvent(alice, 'disconnect', 5000);
    alice.on('disconnect', () => order.push('disconnect'));
    // A plain ack callback (not a promise) so `order` records the ack the moment it arrives.
    const ack = new Promise<any>((settle) => {
      const payload = { receiver_id: 'bob', content: 'last words', client_msg_id: 'last-1' };
      alice.timeout(5000).emit('send_message', payload, (err: Error | null, body: unknown) => {
        order.push(err ? 'no ack' : 'ack');
        settle(err ?? body);
      });
    });
    await waitFor(() => messagePosts(s.chat).length === 1, 3000, 'the message to reach the chat-service');
    const stopped = s.gateway.stop();
    return { stack: s, order, shutdown, disconnected, ack, stopped };
  }

  it('tells the socket server_shutdown with reconnect_after_ms, then disconnects it', async () => {
    const run = await stopWithMessageInFlight();
    expect((await run.shutdown).reconnect_after_ms).to.be.a('number').at.least(0);
    await run.disconnected;
    await within(run.stopped, 5000 + 2000, 'gateway.stop()');
    expect(run.order[0]).to.equal('server_shutdown');
    expect(run.order).to.include('disconnect');
  });

  it('answers /ready 503 (but /health 200) and refuses new handshakes while draining', async () => {
    const run = await stopWithMessageInFlight();
    const ready = await fetch(`${run.stack.url}/ready`);
    expect(ready.status, 'GET /ready while draining').to.equal(503);
    expect((await fetch(`${run.stack.url}/health`)).status, 'GET /health while draining').to.equal(200);
    const refused = await connectError(run.stack.client({ token: run.stack.token('carol') }));
    expect(refused).to.be.an('error');
    expect(run.order, 'still draining when checked').to.not.include('disconnect');
    await within(run.stopped, 5000 + 2000, 'gateway.stop()');
  });

  it('acks the in-flight message ok with the stored message before disconnecting, storing it once', async () => {
    const run = await stopWithMessageInFlight();
    await run.disconnected;
    await within(run.stopped, 5000 + 2000, 'gateway.stop()');
    const body = await run.ack;
    expect(body, 'ack of the in-flight send_message').to.not.be.an('error');
    expect(body.ok).to.equal(true);
    expect(body.message).to.include({ sender_id: 'alice', receiver_id: 'bob', content: 'last words' });
    expect(run.order).to.deep.equal(['server_shutdown', 'ack', 'disconnect']);
    expect(messagePosts(run.stack.chat)).to.have.length(1);
    expect([...run.stack.chat.messages.keys()]).to.deep.equal([body.message.message_id]);
  });

  it('does not wait beyond SHUTDOWN_TIMEOUT_MS for a call that hangs', async () => {
    stack = await startStack({ RATE_LIMIT_ENABLED: 'false', SHUTDOWN_TIMEOUT_MS: '300', CHAT_SERVICE_TIMEOUT_MS: '10000', CHAT_SERVICE_RETRIES: '0' });
    const s = stack;
    const alice = await s.connect('alice');
    s.chat.faults.add({ hang: true, match: MESSAGE_WRITES });
    const disconnected = nextEvent(alice, 'disconnect', 5000);
    alice.emit('send_message', { receiver_id: 'bob', content: 'stuck' });
    await waitFor(() => messagePosts(s.chat).length === 1, 3000, 'the message to reach the chat-service');
    await within(s.gateway.stop(), 300 + 2000, 'gateway.stop()');
    await disconnected;
  });
});

describe('lifecycle: the gateway process', () => {
  let auth: AuthStandIn;
  let chat: ChatStandIn;
  const gateways: GatewayProcess[] = [];
  const sockets: ClientSocket[] = [];
  const tempDirs: string[] = [];

  beforeEach(async () => {
    auth = await startAuthService({ jwtSecret: TEST_SECRET });
    chat = await startChatService({});
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await Promise.all(gateways.splice(0).map((g) => g.kill('SIGKILL')));
    for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    await Promise.all([auth.close(), chat.close()]);
  });

  /** What a working deployment sets, pointing at this test's stand-ins. */
  const goodEnv = () => gatewayEnv({ auth, chat });

  /** A gateway process (`node --import tsx src/main.ts`) with exactly `env`, once it listens; killed after the test. */
  async function startGateway(env: Record<string, string>): Promise<GatewayProcess> {
    const gw = await spawnGateway(env);
    gateways.push(gw);
    return gw;
  }

  /** A socket.io client of the spawned gateway, resolved after `connected`. */
  async function connectTo(port: number, userId: string): Promise<ClientSocket> {
    const socket = connectClient(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token: auth.issueToken(userId) },
    });
    sockets.push(socket);
    await nextEvent(socket, 'connected');
    return socket;
  }

  it('logs "gateway listening" with its port as a JSON line and serves /health there', async () => {
    const gw = await startGateway(goodEnv());
    const entry = gw.listening;
    expect(entry).to.include({ level: 'info', service: SERVICE_NAME });
    expect(entry.port).to.be.a('number').above(0);
    const res = await fetch(`http://127.0.0.1:${entry.port}/health`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.include({ status: 'ok', connections: 0, instance_id: entry.instance_id });
  });

  it('on SIGTERM acks the in-flight message, then exits with code 0 within SHUTDOWN_TIMEOUT_MS', async () => {
    const shutdownTimeoutMs = 3000;
    const gw = await startGateway({ ...goodEnv(), SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) });
    const alice = await connectTo(gw.port, 'alice');
    const shutdowns = collect(alice, 'server_shutdown');
    delayMessages(chat, 500);
    const ack = request(alice, 'send_message', { receiver_id: 'bob', content: 'before the lights go out', client_msg_id: 'term-1' });
    await waitFor(() => messagePosts(chat).length === 1, 3000, 'the message to reach the chat-service');

    const exited = gw.kill('SIGTERM');
    const body = await ack.catch((e: Error) => e);
    const { code } = await within(exited, shutdownTimeoutMs + 2000, 'process exit');
    expect(code, gw.stderr()).to.equal(0);
    expect(shutdowns).to.have.length(1);
    expect(body, 'ack of the in-flight send_message').to.not.be.an('error');
    expect(body.ok).to.equal(true);
    expect(body.message).to.include({ sender_id: 'alice', content: 'before the lights go out' });
    expect([...chat.messages.keys()]).to.deep.equal([body.message.message_id]);
  });

  describe('refuses to start on bad configuration (exit code 1, stderr names the variable)', () => {
    const cases: Array<[what: string, variable: string, change: Record<string, string | null>]> = [
      ['PORT=abc', 'PORT', { PORT: 'abc' }],
      ['AUTH_MODE=remote without AUTH_SERVICE_URL', 'AUTH_SERVICE_URL', { AUTH_MODE: 'remote', AUTH_SERVICE_URL: null }],
      ['JWT_ALGORITHMS=none', 'JWT_ALGORITHMS', { JWT_ALGORITHMS: 'none' }],
      ['no CHAT_SERVICE_URL', 'CHAT_SERVICE_URL', { CHAT_SERVICE_URL: null }],
    ];
    for (const [what, variable, change] of cases) {
      it(what, async () => {
        const env = goodEnv();
        for (const [k, v] of Object.entries(change)) {
          if (v === null) delete env[k];
          else env[k] = v;
        }
        const { code, stdout, stderr } = await runToExit(env, { timeoutMs: 10_000 });
        expect(code).to.equal(1);
        expect(stderr).to.include(variable);
        expect(stdout).to.not.include('gateway listening');
      });
    }

    it('several bad variables: every one in the one message, in our words', async () => {
      const env = { ...goodEnv(), PORT: 'abc', MAX_SOCKETS_PER_USER: '-3', AUTH_CACHE_TTL_MS: '1m', AUTH_MODE: 'remote', LOG_LEVEL: 'loud' };
      const { code, stdout, stderr } = await runToExit(env, { timeoutMs: 10_000 });
      expect(code).to.equal(1);
      expect(stderr).to.include('Invalid configuration (4 variables):');
      expect(stderr).to.include('  - PORT must be an integer from 0 to 65535 (got "abc")');
      expect(stderr).to.include('  - MAX_SOCKETS_PER_USER must be an integer of at least 1 (got "-3")');
      expect(stderr).to.include('  - AUTH_CACHE_TTL_MS must be an integer of at least 0 (got "1m")');
      expect(stderr).to.include('  - LOG_LEVEL must be error, warn, info, http, verbose, debug or silly (got "loud")');
      expect(stderr).to.not.match(/expected|too small|invalid input/i);
      expect(stdout).to.not.include('gateway listening');
    });
  });

  it('reads ENV_FILE when present, with real environment variables winning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-env-'));
    tempDirs.push(dir);
    const file = join(dir, 'gateway.env');
    // CHAT_SERVICE_URL comes only from the file; PORT and INSTANCE_ID are overridden by the environment.
    writeFileSync(file, [`CHAT_SERVICE_URL=${chat.url}`, `JWT_SECRET=${TEST_SECRET}`, 'PORT=abc', 'INSTANCE_ID=from-file', ''].join('\n'));
    const gw = await startGateway({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', INSTANCE_ID: 'from-env', ENV_FILE: file });
    const res = await fetch(`${gw.url}/health`);
    expect(await res.json()).to.include({ status: 'ok', instance_id: 'from-env' });
    const alice = await connectTo(gw.port, 'alice');
    expect((await request(alice, 'send_message', { receiver_id: 'bob', content: 'via the file' })).ok).to.equal(true);
    expect(messagePosts(chat)).to.have.length(1);
  });
});

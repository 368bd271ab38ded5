import { expect } from 'chai';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { IpcPeer } from '../../bench/lib/ipc.js';
import {
  nowMs,
  SOCKET_IO_CLIENT_RECONNECTION,
  type ConnectCmd,
  type ConnectResult,
  type PresenceResult,
  type ReconnectedResult,
  type StatusResult,
  type SubscribeResult,
} from '../../bench/lib/loadProtocol.js';
import { busySocketServer, type BusySocketServer } from '../support/busySocketServer.js';

const LOAD_CLIENT = fileURLToPath(new URL('../../bench/loadClient.ts', import.meta.url));

describe('bench load client', function () {
  this.timeout(30_000);
  let child: ChildProcess;
  let peer: IpcPeer;
  let server: BusySocketServer | undefined;

  beforeEach(() => {
    child = fork(LOAD_CLIENT, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    peer = new IpcPeer(child, 'load client');
  });

  afterEach(async () => {
    await peer.request({ cmd: 'close', timeoutMs: 5000 }).catch(() => undefined);
    child.kill();
    await server?.close();
  });

  const connect = (url: string, users: string[], extra: Partial<ConnectCmd> = {}) =>
    peer.request<ConnectResult>({ cmd: 'connect', url, users, rate: 1000, maxPending: 10, timeoutMs: 10_000, jwtSecret: 'load-client-test-secret', ...extra } satisfies ConnectCmd);

  it('comes back after retry_after_ms when refused with SERVER_BUSY, and counts the client connected', async () => {
    server = await busySocketServer((user) => (user === 'u1' ? 0 : 2));
    const result = await connect(server.url, ['u1', 'u2', 'u3']);
    expect(result).to.include({ connected: 3, failed: 0, refusals: 4, refusedClients: 2 });
  });

  it('gives up on a client the server keeps refusing, so that connecting ends', async () => {
    server = await busySocketServer((user) => (user === 'stuck' ? Infinity : 0));
    const result = await connect(server.url, ['ok', 'stuck']);
    expect(result).to.include({ connected: 1, failed: 1, refusedClients: 1 });
    expect(result.errors[0]).to.contain('SERVER_BUSY');
  });

  it('brings kept sockets back after server_shutdown, through a SERVER_BUSY refusal, once the server restarts on its port', async () => {
    server = await busySocketServer(() => 0);
    // A backoff longer than the give-up time: only the notice and retry_after_ms bring a client back.
    const reconnect = { ...SOCKET_IO_CLIENT_RECONNECTION, minDelayMs: 30_000, maxDelayMs: 30_000, giveUpAfterMs: 10_000 };
    expect(await connect(server.url, ['a', 'b'], { reconnect })).to.include({ connected: 2 });
    const back = peer.request<ReconnectedResult>({ cmd: 'reconnected', sinceMs: nowMs(), timeoutMs: 10_000 });
    server.io.emit('server_shutdown', { reconnect_after_ms: 300 });
    server.io.disconnectSockets(true);
    // As the gateway's drain does: the disconnect packets leave before the engine closes.
    while (server.io.engine.clientsCount > 0) await new Promise((r) => setTimeout(r, 10));
    const { port } = server;
    await server.close();
    server = await busySocketServer(() => 1, port);

    const result = await back;
    expect(result).to.include({ users: 2, back: 2, down: 0, neverLost: 0, noticed: 2, attempts: 4 });
    expect(result.failures).to.deep.equal({ SERVER_BUSY: 2 });
    expect(result.longestRetryAfterMs).to.equal(20);
    expect(await peer.request<StatusResult>({ cmd: 'status' })).to.include({ open: 2, unexpectedCloses: 0 });
  });

  it('records the presence events each subscriber saw for each user it watches, in order', async () => {
    server = await busySocketServer(() => 0);
    server.io.on('connection', (socket) =>
      socket.on('presence_subscribe', (p: { user_ids: string[] }, ack: (body: object) => void) => ack({ ok: true, online: p.user_ids })),
    );
    await connect(server.url, ['w']);
    const subscribed = await peer.request<SubscribeResult>({ cmd: 'subscribe', subscriptions: [['w', ['a', 'b', 'c']]] });
    expect(subscribed).to.include({ ok: 1, failed: 0, online: 3 });
    server.io.emit('user_disconnected', { user_id: 'a', last_seen: new Date().toISOString() });
    server.io.emit('user_connected', { user_id: 'a', at: new Date().toISOString() });
    server.io.emit('user_connected', { user_id: 'b', at: new Date().toISOString() });
    server.io.emit('user_connected', { user_id: 'b', at: new Date().toISOString() });
    server.io.emit('user_connected', { user_id: 'z', at: new Date().toISOString() });

    const seen = await peer.request<PresenceResult>({ cmd: 'presence', settleMs: 200, maxWaitMs: 5000 });
    expect(seen).to.deep.include({ pairs: 3, patterns: { DC: 1, CC: 1, '': 1 }, unwatched: 1 });
  });
});

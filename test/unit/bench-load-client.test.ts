import { expect } from 'chai';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Server } from 'socket.io';
import { IpcPeer } from '../../bench/lib/ipc.js';
import type { ConnectCmd, ConnectResult } from '../../bench/lib/loadProtocol.js';

const LOAD_CLIENT = fileURLToPath(new URL('../../bench/loadClient.ts', import.meta.url));

/**
 * A Socket.IO server that refuses each user's first `refusals` handshakes with SERVER_BUSY
 * (contract section 1), then lets the user in with `connected`.
 */
async function busyServer(refusalsOf: (user: string) => number): Promise<{ url: string; close(): Promise<void> }> {
  const http: HttpServer = createServer();
  const io = new Server(http);
  const refused = new Map<string, number>();
  io.use((socket, next) => {
    const user = String(socket.handshake.auth.user_id);
    const count = refused.get(user) ?? 0;
    if (count >= refusalsOf(user)) return next();
    refused.set(user, count + 1);
    next(Object.assign(new Error('server busy'), { data: { code: 'SERVER_BUSY', retry_after_ms: 20 } }));
  });
  io.on('connection', (socket) => socket.emit('connected', { socket_id: socket.id, user_id: socket.handshake.auth.user_id }));
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => io.close(() => resolve())),
  };
}

describe('bench load client', function () {
  this.timeout(30_000);
  let child: ChildProcess;
  let peer: IpcPeer;
  let server: Awaited<ReturnType<typeof busyServer>> | undefined;

  beforeEach(() => {
    child = fork(LOAD_CLIENT, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    peer = new IpcPeer(child, 'load client');
  });

  afterEach(async () => {
    await peer.request({ cmd: 'close', timeoutMs: 5000 }).catch(() => undefined);
    child.kill();
    await server?.close();
  });

  const connect = (url: string, users: string[]) =>
    peer.request<ConnectResult>({ cmd: 'connect', url, users, rate: 1000, maxPending: 10, timeoutMs: 10_000, jwtSecret: 'load-client-test-secret' } satisfies ConnectCmd);

  it('comes back after retry_after_ms when refused with SERVER_BUSY, and counts the client connected', async () => {
    server = await busyServer((user) => (user === 'u1' ? 0 : 2));
    const result = await connect(server.url, ['u1', 'u2', 'u3']);
    expect(result).to.include({ connected: 3, failed: 0, refusals: 4, refusedClients: 2 });
  });

  it('gives up on a client the server keeps refusing, so that connecting ends', async () => {
    server = await busyServer((user) => (user === 'stuck' ? Infinity : 0));
    const result = await connect(server.url, ['ok', 'stuck']);
    expect(result).to.include({ connected: 1, failed: 1, refusedClients: 1 });
    expect(result.errors[0]).to.contain('SERVER_BUSY');
  });
});

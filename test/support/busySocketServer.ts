import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

/** A stand-in Socket.IO server for the bench's load client (it speaks the wire protocol directly). */
export interface BusySocketServer {
  url: string;
  port: number;
  io: Server;
  close(): Promise<void>;
}

/**
 * A Socket.IO server that refuses each user's first `refusalsOf(user)` handshakes with
 * SERVER_BUSY (contract section 1), then lets the user in with `connected`; on `port` when given.
 */
export async function busySocketServer(refusalsOf: (user: string) => number, port = 0): Promise<BusySocketServer> {
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
  http.listen(port, '127.0.0.1');
  await once(http, 'listening');
  const bound = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    io,
    close: () => new Promise((resolve) => io.close(() => resolve())),
  };
}

/**
 * The baseline: a bare Socket.IO server that relays the gateway's events with no auth,
 * validation, limits or persistence, with the gateway's server options. It sends the same
 * frames the gateway sends (`connected`, `receive_message`, `message_sent`, acks), so the
 * difference between the two is the gateway's own work. It trusts the client: the user is
 * `auth.user_id`, and a receipt goes to the sender encoded in the message id (`b~{sender}~{n}`).
 * `REDIS_URL` adds @socket.io/redis-adapter, as the gateway does in cluster mode.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import { announceReady } from '../lib/ipc.js';

type Payload = Record<string, unknown>;
type Ack = ((body: object) => void) | undefined;

const user = (id: unknown) => `user:${String(id)}`;
const room = (id: unknown) => `room:${String(id)}`;
let seq = 0;

const httpServer = http.createServer((req, res) => {
  // Figures for the orchestrator; not part of the relay.
  const body = JSON.stringify({ status: 'ok', connections: io.engine.clientsCount, heap_used_bytes: process.memoryUsage().heapUsed, node: process.version });
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
const io = new Server(httpServer, {
  path: '/socket.io',
  serveClient: false,
  maxHttpBufferSize: 65536 * 2,
  perMessageDeflate: false,
  pingInterval: 25_000,
  pingTimeout: 20_000,
  cors: { origin: true },
});
if (process.env.REDIS_URL) {
  const pub = new Redis(process.env.REDIS_URL);
  io.adapter(createAdapter(pub, pub.duplicate(), { key: 'bare:socket.io' }));
}

function sendMessage(socket: Socket, userId: string, p: Payload, ack: Ack): void {
  const message = {
    message_id: `b~${userId}~${++seq}`,
    sender_id: userId,
    ...p,
    message_type: p.message_type ?? 'text',
    created_at: new Date().toISOString(),
  };
  const audience = p.room_id !== undefined ? room(p.room_id) : user(p.receiver_id);
  io.to([audience, user(userId)]).except(socket.id).emit('receive_message', { message });
  socket.emit('message_sent', p.client_msg_id ? { message, client_msg_id: p.client_msg_id } : { message });
  ack?.({ ok: true, message });
}

function typing(event: string, userId: string, p: Payload, ack: Ack): void {
  const target = p.room_id !== undefined ? { room_id: p.room_id } : { receiver_id: p.receiver_id };
  io.to(p.room_id !== undefined ? room(p.room_id) : user(p.receiver_id))
    .except(user(userId))
    .volatile.emit(event, { user_id: userId, ...target });
  ack?.({ ok: true });
}

function receipt(userId: string, status: 'delivered' | 'read', p: Payload, ack: Ack): void {
  const messageId = String(p.message_id);
  const sender = messageId.split('~')[1] ?? String(p.sender_id);
  const at = new Date().toISOString();
  io.to(user(sender)).emit('message_status_update', { message_id: messageId, status, user_id: userId, at });
  if (status === 'read') io.to(user(sender)).emit('message_read_receipt', { message_id: messageId, reader_id: userId, read_at: at });
  ack?.({ ok: true, message_id: messageId, status });
}

io.on('connection', (socket) => {
  const userId = String(socket.handshake.auth.user_id);
  void socket.join(user(userId));
  socket.emit('connected', { socket_id: socket.id, user_id: userId, server_time: new Date().toISOString() });
  socket.on('send_message', (p: Payload, ack: Ack) => sendMessage(socket, userId, p, ack));
  socket.on('send_group_message', (p: Payload, ack: Ack) => sendMessage(socket, userId, p, ack));
  socket.on('join_room', async (p: Payload, ack: Ack) => {
    await socket.join(room(p.room_id));
    ack?.({ ok: true, room_id: p.room_id });
  });
  socket.on('leave_room', async (p: Payload, ack: Ack) => {
    await socket.leave(room(p.room_id));
    ack?.({ ok: true, room_id: p.room_id });
  });
  socket.on('typing', (p: Payload, ack: Ack) => typing('user_typing', userId, p, ack));
  socket.on('stop_typing', (p: Payload, ack: Ack) => typing('user_stop_typing', userId, p, ack));
  socket.on('message_delivered', (p: Payload, ack: Ack) => receipt(userId, 'delivered', p, ack));
  socket.on('message_read', (p: Payload, ack: Ack) => receipt(userId, 'read', p, ack));
});

// The gateway's listen backlog, so a connect storm meets the same kernel queue on both servers.
httpServer.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1', backlog: 4096 }, () => {
  announceReady({ port: (httpServer.address() as AddressInfo).port });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

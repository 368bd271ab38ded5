import { io, type Socket } from 'socket.io-client';

/** Connects one demo user and resolves once the gateway greets it. */
function connectAs(url: string, token: string): Promise<Socket> {
  const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connected', () => resolve(socket));
    socket.once('connect_error', (e) => reject(new Error(`connect failed: ${e.message}`)));
  });
}

/** Waits for one event, failing after two seconds. */
function next<T>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event}`)), 2000);
    socket.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** A scripted round trip printed to the console: direct message, read receipt, room message. */
export async function runDemo(url: string, aliceToken: string, bobToken: string, room: string): Promise<void> {
  const alice = await connectAs(url, aliceToken);
  const bob = await connectAs(url, bobToken);
  try {
    console.log('demo: alice and bob connected');
    const received = next<{ message: { message_id: string; content: string } }>(bob, 'receive_message');
    const ack = await alice.timeout(3000).emitWithAck('send_message', { receiver_id: 'bob', content: 'Hello Bob!', client_msg_id: 'demo-1' });
    console.log(`demo: alice -> bob stored as ${ack.message.message_id}`);
    const { message } = await received;
    console.log(`demo: bob received "${message.content}"`);
    const receipt = next<{ reader_id: string }>(alice, 'message_read_receipt');
    await bob.timeout(3000).emitWithAck('message_read', { message_id: message.message_id });
    console.log(`demo: alice saw the read receipt from ${(await receipt).reader_id}`);
    await alice.timeout(3000).emitWithAck('join_room', { room_id: room });
    await bob.timeout(3000).emitWithAck('join_room', { room_id: room });
    const inRoom = next<{ message: { content: string } }>(bob, 'receive_message');
    await alice.timeout(3000).emitWithAck('send_group_message', { room_id: room, content: 'Hi #general' });
    console.log(`demo: bob got "${(await inRoom).message.content}" in #${room}`);
    console.log('demo: OK — the gateway is ready for your own clients\n');
  } finally {
    alice.disconnect();
    bob.disconnect();
  }
}

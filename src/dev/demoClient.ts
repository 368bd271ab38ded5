import { GatewayClient } from '../sdk/index.js';
import type { ServerToClientEvents } from '../contract/index.js';

/** Connects one demo user with the typed client and resolves once the gateway greets it. */
async function connectAs(url: string, token: string): Promise<GatewayClient> {
  const client = new GatewayClient(url, { token, ackTimeoutMs: 3000 });
  await client.connect();
  return client;
}

/** Waits for one server event, failing after two seconds. */
function next<E extends keyof ServerToClientEvents>(client: GatewayClient, event: E): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const listener = ((payload: Parameters<ServerToClientEvents[E]>[0]) => {
      clearTimeout(timer);
      resolve(payload);
    }) as ServerToClientEvents[E];
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`no ${event}`));
    }, 2000);
    client.once(event, listener);
  });
}

/** A scripted round trip printed to the console: direct message, read receipt, room message. */
export async function runDemo(url: string, aliceToken: string, bobToken: string, room: string): Promise<void> {
  const alice = await connectAs(url, aliceToken);
  const bob = await connectAs(url, bobToken);
  try {
    console.log('demo: alice and bob connected');
    const received = next(bob, 'receive_message');
    const ack = await alice.sendMessage({ receiver_id: 'bob', content: 'Hello Bob!', client_msg_id: 'demo-1' });
    console.log(`demo: alice -> bob stored as ${ack.message.message_id}`);
    const { message } = await received;
    console.log(`demo: bob received "${message.content}"`);
    const receipt = next(alice, 'message_read_receipt');
    await bob.markRead({ message_id: message.message_id });
    console.log(`demo: alice saw the read receipt from ${(await receipt).reader_id}`);
    await alice.joinRoom({ room_id: room });
    await bob.joinRoom({ room_id: room });
    const inRoom = next(bob, 'receive_message');
    await alice.sendGroupMessage({ room_id: room, content: 'Hi #general' });
    console.log(`demo: bob got "${(await inRoom).message.content}" in #${room}`);
    console.log('demo: OK — the gateway is ready for your own clients\n');
  } finally {
    alice.close();
    bob.close();
  }
}

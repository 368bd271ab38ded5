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

/** Where the demo runs: what it needs of a dev stack (src/dev/devStack.ts). */
export interface DemoTarget {
  gatewayUrl: string;
  chatUrl: string;
  /** Tokens by user id; alice's and bob's are used. */
  tokens: Record<string, string>;
  demoRoom: string;
}

/** Whether alice and bob have talked already (the chat-service's history of their conversation). */
async function alreadyTalked(chatUrl: string): Promise<boolean> {
  const res = await fetch(`${chatUrl}/messages?user_id=alice&peer_id=bob`, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`chat-service history: HTTP ${res.status}`);
  const { messages } = (await res.json()) as { messages: unknown[] };
  return messages.length > 0;
}

/**
 * A scripted round trip printed to the console: direct message, read receipt, room message.
 * Posts only into an empty conversation, and with fixed client_msg_ids, so running it again
 * against the same chat-service (a restart, a second run) adds nothing to what people see.
 * Resolves with whether it posted.
 */
export async function runDemo(stack: DemoTarget): Promise<boolean> {
  if (await alreadyTalked(stack.chatUrl)) {
    console.log('demo: alice and bob have talked already; not posting again');
    return false;
  }
  const room = stack.demoRoom;
  const alice = await connectAs(stack.gatewayUrl, stack.tokens.alice);
  const bob = await connectAs(stack.gatewayUrl, stack.tokens.bob);
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
    await alice.sendGroupMessage({ room_id: room, content: 'Hi #general', client_msg_id: 'demo-2' });
    console.log(`demo: bob got "${(await inRoom).message.content}" in #${room}`);
    console.log('demo: OK — the gateway is ready for your own clients\n');
    return true;
  } finally {
    alice.close();
    bob.close();
  }
}

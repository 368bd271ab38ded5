/**
 * Compile-only checks of the typed client (run by `npm test`'s typecheck step, never by mocha):
 * the contract's event maps reach every call and listener, so a wrong payload does not compile.
 * Each `@ts-expect-error` fails the typecheck if the line below it ever compiles.
 */
import { GatewayClient, GatewayClientError, isGatewayClientError, type ChatMessage, type StateChange } from '@chat-gateway/client';

declare const client: GatewayClient;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(_: T): void => undefined;

export async function correctCalls(): Promise<void> {
  const sent = await client.sendMessage({ receiver_id: 'bob', content: 'hi' });
  assertType<Equal<typeof sent, { message: ChatMessage }>>(true);
  const id: string = sent.message.message_id;
  await client.sendMessage({ room_id: 'general', content: 'hi all', client_msg_id: id, metadata: { x: 1 } });
  await client.sendGroupMessage({ room_id: 'general', content: 'hi' });
  const joined: { room_id: string } = await client.joinRoom({ room_id: 'general' });
  await client.leaveRoom(joined);
  await client.typing({ receiver_id: 'bob' });
  await client.stopTyping({ room_id: 'general' });
  const receipt = await client.markRead({ message_id: id });
  assertType<Equal<typeof receipt.status, 'read'>>(true);
  const delivered = await client.markDelivered({ message_id: id });
  assertType<Equal<typeof delivered.status, 'delivered'>>(true);
  await client.deleteMessage({ message_id: id });
  const { users } = await client.getOnlineUsers();
  const { online } = await client.subscribePresence({ user_ids: users });
  await client.unsubscribePresence({ user_ids: online });
  const { expires_at } = await client.refreshToken();
  assertType<Equal<typeof expires_at, string | null>>(true);

  client.on('receive_message', ({ message }) => message.content.toUpperCase());
  client.on('message_status_update', (p) => assertType<Equal<typeof p.status, 'delivered' | 'read'>>(true));
  client.on('user_disconnected', ({ user_id, last_seen }) => `${user_id} ${last_seen}`);
  client.on('error', (e) => (e.code === 'AUTH_EXPIRED' ? e.message : e.retry_after_ms));
  client.on('server_shutdown', ({ reconnect_after_ms }) => reconnect_after_ms.toFixed());
  client.onStateChange((change: StateChange) => change.state === 'reconnecting');

  try {
    await client.joinRoom({ room_id: 'x' });
  } catch (e) {
    if (isGatewayClientError(e)) {
      const retry: boolean = e.retryable;
      const code: GatewayClientError['code'] = e.code;
      void [retry, code, e.retry_after_ms];
    }
  }
}

export async function wrongCalls(): Promise<void> {
  // @ts-expect-error content is required
  await client.sendMessage({ receiver_id: 'bob' });
  // @ts-expect-error content is a string
  await client.sendMessage({ receiver_id: 'bob', content: 42 });
  // @ts-expect-error receiver_id is a string
  await client.sendMessage({ receiver_id: ['bob'], content: 'hi' });
  // @ts-expect-error send_group_message needs room_id
  await client.sendGroupMessage({ receiver_id: 'bob', content: 'hi' });
  // @ts-expect-error send_group_message takes no receiver_id
  await client.sendGroupMessage({ room_id: 'general', receiver_id: 'bob', content: 'hi' });
  // @ts-expect-error send_message takes exactly one of receiver_id and room_id
  await client.sendMessage({ receiver_id: 'bob', room_id: 'general', content: 'hi' });
  // @ts-expect-error typing names a receiver or a room
  await client.typing({});
  // @ts-expect-error room_id is required
  await client.joinRoom({});
  // @ts-expect-error message_id is a string
  await client.markRead({ message_id: 7 });
  // @ts-expect-error user_ids is an array
  await client.subscribePresence({ user_ids: 'alice' });
  // @ts-expect-error refresh_token takes a string
  await client.refreshToken(123);
  const sent = await client.sendMessage({ receiver_id: 'bob', content: 'hi' });
  // @ts-expect-error the ack's data carries no `ok` (failures reject)
  void sent.ok;
  // @ts-expect-error message_id is a string
  const n: number = sent.message.message_id;
  void n;
}

export function wrongListeners(): void {
  // @ts-expect-error not a server event
  client.on('recieve_message', () => undefined);
  // @ts-expect-error client events are not listened to
  client.on('send_message', () => undefined);
  // @ts-expect-error the payload is { message }, not a string
  client.on('receive_message', (text: string) => text);
  // @ts-expect-error user_typing carries no `message`
  client.on('user_typing', (p: { message: ChatMessage }) => p);
  client.on('message_status_update', (p) => {
    // @ts-expect-error status is 'delivered' | 'read'
    const s: 'sent' = p.status;
    void s;
  });
  // @ts-expect-error not a server event
  client.off('nope');
}

export function wrongOptions(): void {
  // @ts-expect-error transports are websocket or polling
  new GatewayClient('http://localhost:3002', { token: 't', transports: ['webtransport'] });
  // @ts-expect-error getToken returns a token
  new GatewayClient('http://localhost:3002', { getToken: () => 42 });
}

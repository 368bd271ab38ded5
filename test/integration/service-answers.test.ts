import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import { collect, connectError, request, waitFor } from '../support/events.js';
import { capturedLogger, type CapturedLogger } from '../support/logs.js';
import { expectFailure, roundTrips, uniqueId, useStack } from '../support/scenarios.js';
import type { Stack } from '../support/stack.js';

/**
 * Service answers the gateway reads are checked: one without what the gateway needs fails the
 * event with SERVICE_UNAVAILABLE and is logged, and nothing is emitted from it. A user named
 * "undefined" watches the room `user:undefined`, where a missing `sender_id` used to go.
 */

/** A stack for the enclosing describe whose error log is kept in `logs`. */
function useLoggedStack(env: Record<string, string>): { stack: () => Stack; logs: CapturedLogger } {
  const logs = capturedLogger('error');
  return { stack: useStack({ RATE_LIMIT_ENABLED: 'false', ...env }, { logger: logs.logger }), logs };
}

/** The error lines about malformed answers to `operation`. */
function malformedLines(logs: CapturedLogger, operation: string) {
  return logs.entries().filter((e) => e.level === 'error' && e.operation === operation && /answered without/.test(String(e.message)));
}

/** Every event a socket receives from now on, by name. */
function everything(socket: ClientSocket): string[] {
  const seen: string[] = [];
  socket.onAny((event: string) => seen.push(event));
  return seen;
}

/**
 * A message from a sender to a peer, both connected, and the user "undefined" watching its own
 * room: what a receipt or a deletion is about.
 */
async function watchedConversation(stack: Stack) {
  const [sender, peer] = [uniqueId('sender'), uniqueId('peer')];
  const senderSocket = await stack.connect(sender);
  const peerSocket = await stack.connect(peer);
  const watcher = await stack.connect('undefined');
  const sent = await request(senderSocket, 'send_message', { receiver_id: peer, content: 'hello' });
  return { senderSocket, peerSocket, watcher, watched: everything(watcher), messageId: sent.message.message_id as string };
}

for (const batching of ['false', 'true'] as const) {
  describe(`malformed chat-service answers (CHAT_BATCH_ENDPOINTS=${batching})`, () => {
    const { stack, logs } = useLoggedStack({ CHAT_BATCH_ENDPOINTS: batching });
    afterEach(() => stack().chat.faults.clear());

    it('a receipt answer without sender_id fails the receipt and is emitted to nobody', async () => {
      const { senderSocket, peerSocket, watcher, watched, messageId } = await watchedConversation(stack());
      const toSender = collect(senderSocket, 'message_status_update');
      const receipt = { message_id: messageId, status: 'read' };
      stack().chat.faults.add(
        batching === 'true'
          ? { status: 200, body: { results: [receipt] }, match: { method: 'POST', path: /^\/receipts\/batch$/ } }
          : { status: 200, body: receipt, match: { method: 'POST', path: /\/receipts$/ } },
      );

      expectFailure(await request(peerSocket, 'message_read', { message_id: messageId }), 'SERVICE_UNAVAILABLE');

      await roundTrips(watcher, senderSocket);
      expect(watched, 'events seen in user:undefined').to.deep.equal([]);
      expect(toSender).to.deep.equal([]);
      const operation = batching === 'true' ? 'receipt_batch' : 'receipt_read';
      await waitFor(() => malformedLines(logs, operation).length > 0, 1000, 'the error line');
    });

    it('a stored message whose message_id is not an id fails send_message and reaches nobody', async () => {
      const [sender, receiver] = [uniqueId('sender'), uniqueId('receiver')];
      const senderSocket = await stack().connect(sender);
      const receiverSocket = await stack().connect(receiver);
      const received = collect(receiverSocket, 'receive_message');
      const stored = { message: { message_id: 42, sender_id: sender, content: 'hello', created_at: new Date().toISOString() } };
      stack().chat.faults.add(
        batching === 'true'
          ? { status: 200, body: { results: [stored] }, match: { method: 'POST', path: /^\/messages\/batch$/ } }
          : { status: 201, body: stored, match: { method: 'POST', path: /^\/messages$/ } },
      );

      expectFailure(await request(senderSocket, 'send_message', { receiver_id: receiver, content: 'hello' }), 'SERVICE_UNAVAILABLE');

      await roundTrips(receiverSocket);
      expect(received).to.deep.equal([]);
    });
  });
}

describe('malformed chat-service answers to a deletion', () => {
  const { stack, logs } = useLoggedStack({});

  it('a deletion answer without sender_id fails delete_message and is emitted to nobody', async () => {
    const { senderSocket, peerSocket, watcher, watched, messageId } = await watchedConversation(stack());
    const toPeer = collect(peerSocket, 'message_deleted');
    stack().chat.faults.add({ status: 200, body: { message_id: messageId }, times: 1, match: { method: 'DELETE' } });

    expectFailure(await request(senderSocket, 'delete_message', { message_id: messageId }), 'SERVICE_UNAVAILABLE');

    await roundTrips(watcher, peerSocket);
    expect(watched, 'events seen in user:undefined').to.deep.equal([]);
    expect(toPeer).to.deep.equal([]);
    await waitFor(() => malformedLines(logs, 'delete_message').length > 0, 1000, 'the error line');
  });
});

describe('malformed auth-service answers (AUTH_MODE=remote)', () => {
  const { stack, logs } = useLoggedStack({ AUTH_MODE: 'remote', JWT_SECRET: '' });

  it('a verification answer without user_id refuses the handshake with SERVICE_UNAVAILABLE, not as the user\'s fault', async () => {
    stack().auth.faults.add({ status: 200, body: { expires_at: new Date(Date.now() + 60_000).toISOString() }, times: 1, match: { path: /^\/auth\/verify$/ } });

    const err = await connectError(stack().client({ token: stack().token(uniqueId('user')) }));

    expect(err.data).to.deep.equal({ code: 'SERVICE_UNAVAILABLE' });
    await waitFor(() => malformedLines(logs, 'verify').length > 0, 1000, 'the error line');
  });
});

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

for (const batching of ['false', 'true'] as const) {
  describe(`malformed chat-service answers (CHAT_BATCH_ENDPOINTS=${batching})`, () => {
    const { stack, logs } = useLoggedStack({ CHAT_BATCH_ENDPOINTS: batching });
    afterEach(() => stack().chat.faults.clear());

    it('a receipt answer without sender_id fails the receipt and is emitted to nobody', async () => {
      const [sender, reader] = [uniqueId('sender'), uniqueId('reader')];
      const senderSocket = await stack().connect(sender);
      const readerSocket = await stack().connect(reader);
      const watcher = await stack().connect('undefined');
      const watched = everything(watcher);
      const sent = await request(senderSocket, 'send_message', { receiver_id: reader, content: 'hello' });
      const toSender = collect(senderSocket, 'message_status_update');
      const receipt = { message_id: sent.message.message_id, status: 'read' };
      stack().chat.faults.add(
        batching === 'true'
          ? { status: 200, body: { results: [receipt] }, match: { method: 'POST', path: /^\/receipts\/batch$/ } }
          : { status: 200, body: receipt, match: { method: 'POST', path: /\/receipts$/ } },
      );

      expectFailure(await request(readerSocket, 'message_read', { message_id: sent.message.message_id }), 'SERVICE_UNAVAILABLE');

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
    const [sender, receiver] = [uniqueId('sender'), uniqueId('receiver')];
    const senderSocket = await stack().connect(sender);
    const receiverSocket = await stack().connect(receiver);
    const watcher = await stack().connect('undefined');
    const watched = everything(watcher);
    const sent = await request(senderSocket, 'send_message', { receiver_id: receiver, content: 'oops' });
    const toReceiver = collect(receiverSocket, 'message_deleted');
    stack().chat.faults.add({ status: 200, body: { message_id: sent.message.message_id }, times: 1, match: { method: 'DELETE' } });

    expectFailure(await request(senderSocket, 'delete_message', { message_id: sent.message.message_id }), 'SERVICE_UNAVAILABLE');

    await roundTrips(watcher, receiverSocket);
    expect(watched, 'events seen in user:undefined').to.deep.equal([]);
    expect(toReceiver).to.deep.equal([]);
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

import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import { receiptWrites } from '../support/chatWrites.js';
import { collect, nextEvent, request } from '../support/events.js';
import { expectFailure, expectIsoTime, roundTrips, uniqueId, useStack } from '../support/scenarios.js';
import type { Stack } from '../support/stack.js';

/** A direct message from a sender on two devices to a receiver, sent through the gateway. */
async function deliveredMessage(stack: Stack) {
  const [sender, receiver] = [uniqueId('sender'), uniqueId('receiver')];
  const senderPhone = await stack.connect(sender);
  const senderLaptop = await stack.connect(sender);
  const receiverSocket = await stack.connect(receiver);
  const sent = await request(senderPhone, 'send_message', { receiver_id: receiver, content: 'hello' });
  expect(sent.ok, 'send_message ack').to.equal(true);
  return { sender, receiver, senderPhone, senderLaptop, receiverSocket, messageId: sent.message.message_id as string };
}

/** The receipt writes the chat-service received for a message (single calls or batch items). */
function receiptCalls(stack: Stack, messageId: string) {
  return receiptWrites(stack.chat)
    .filter((w) => w.body.message_id === messageId)
    .map(({ body: { user_id, status }, request }) => ({ body: { user_id, status }, headers: request.headers }));
}

/** The time the chat-service stored for a receipt. */
function storedAt(stack: Stack, messageId: string, userId: string, status: 'delivered' | 'read'): string {
  const record = stack.chat.receipts.find((r) => r.message_id === messageId && r.user_id === userId && r.status === status);
  expect(record, `stored ${status} receipt`).to.not.equal(undefined);
  return record!.at;
}

describe('receipts', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false' });

  describe('message_delivered', () => {
    it('acks with the status and tells every device of the sender', async () => {
      const m = await deliveredMessage(stack());
      const onPhone = nextEvent(m.senderPhone, 'message_status_update');
      const onLaptop = nextEvent(m.senderLaptop, 'message_status_update');

      const ack = await request(m.receiverSocket, 'message_delivered', { message_id: m.messageId });

      expect(ack).to.deep.equal({ ok: true, message_id: m.messageId, status: 'delivered' });
      const at = storedAt(stack(), m.messageId, m.receiver, 'delivered');
      const expected = { message_id: m.messageId, status: 'delivered', user_id: m.receiver, at };
      expect(await onPhone).to.deep.equal(expected);
      expect(await onLaptop).to.deep.equal(expected);
      expectIsoTime(at, 'at');
    });

    it('records the receipt at the chat-service with an idempotency key', async () => {
      const m = await deliveredMessage(stack());

      await request(m.receiverSocket, 'message_delivered', { message_id: m.messageId });

      const calls = receiptCalls(stack(), m.messageId);
      expect(calls).to.have.length(1);
      expect(calls[0].body).to.deep.equal({ user_id: m.receiver, status: 'delivered' });
      expect(calls[0].headers['idempotency-key'], 'Idempotency-Key').to.be.a('string').and.not.equal('');
    });
  });

  describe('message_delivered with CHAT_BATCH_ENDPOINTS=false', () => {
    const single = useStack({ RATE_LIMIT_ENABLED: 'false', CHAT_BATCH_ENDPOINTS: 'false' });

    it('calls POST /messages/{id}/receipts as the acting user, keyed by user, message and status', async () => {
      const m = await deliveredMessage(single());

      await request(m.receiverSocket, 'message_delivered', { message_id: m.messageId });

      const calls = single().chat.requests.filter((r) => r.method === 'POST' && r.path === `/messages/${m.messageId}/receipts`);
      expect(calls.map((c) => c.body)).to.deep.equal([{ user_id: m.receiver, status: 'delivered' }]);
      expect(calls[0].headers['idempotency-key'], 'Idempotency-Key').to.equal(`${m.receiver}:${m.messageId}:delivered`);
      expect(calls[0].headers['x-user-id'], 'X-User-Id').to.equal(m.receiver);
    });
  });

  for (const event of ['message_read', 'message_read_status']) {
    describe(event, () => {
      it('acks status read and sends the sender a status update and a read receipt on every device', async () => {
        const m = await deliveredMessage(stack());
        const updates = [nextEvent(m.senderPhone, 'message_status_update'), nextEvent(m.senderLaptop, 'message_status_update')];
        const receipts = [nextEvent(m.senderPhone, 'message_read_receipt'), nextEvent(m.senderLaptop, 'message_read_receipt')];

        const ack = await request(m.receiverSocket, event, { message_id: m.messageId });

        expect(ack).to.deep.equal({ ok: true, message_id: m.messageId, status: 'read' });
        const at = storedAt(stack(), m.messageId, m.receiver, 'read');
        for (const update of await Promise.all(updates)) {
          expect(update).to.deep.equal({ message_id: m.messageId, status: 'read', user_id: m.receiver, at });
        }
        for (const receipt of await Promise.all(receipts)) {
          expect(receipt).to.deep.equal({ message_id: m.messageId, reader_id: m.receiver, read_at: at });
        }
        const calls = receiptCalls(stack(), m.messageId);
        expect(calls.map((c) => c.body)).to.deep.equal([{ user_id: m.receiver, status: 'read' }]);
        expect(calls[0].headers['idempotency-key'], 'Idempotency-Key').to.be.a('string').and.not.equal('');
      });
    });
  }

  describe('who is told', () => {
    it('tells the sender that the chat-service names, whoever sent the message', async () => {
      const [author, reader] = [uniqueId('author'), uniqueId('reader')];
      const authorSocket = await stack().connect(author);
      const readerSocket = await stack().connect(reader);
      // Stored by another path than the gateway: only the chat-service knows who sent it.
      const stored = await fetch(`${stack().chat.url}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sender_id: author, receiver_id: reader, content: 'from elsewhere', message_type: 'text' }),
      });
      const messageId = ((await stored.json()) as { message: { message_id: string } }).message.message_id;
      const receipt = nextEvent(authorSocket, 'message_read_receipt');

      expect(await request(readerSocket, 'message_read', { message_id: messageId })).to.deep.equal({
        ok: true,
        message_id: messageId,
        status: 'read',
      });

      expect(await receipt).to.include({ message_id: messageId, reader_id: reader });
    });

    it('refuses a receipt from a user who is not a participant with FORBIDDEN and tells nobody', async () => {
      const m = await deliveredMessage(stack());
      const intruder = await stack().connect(uniqueId('intruder'));
      const told = watchReceipts(m.senderPhone, m.senderLaptop, m.receiverSocket, intruder);

      expectFailure(await request(intruder, 'message_delivered', { message_id: m.messageId }), 'FORBIDDEN');
      expectFailure(await request(intruder, 'message_read', { message_id: m.messageId }), 'FORBIDDEN');

      await roundTrips(m.senderPhone, m.senderLaptop, m.receiverSocket, intruder);
      expect(told).to.deep.equal([]);
      expect(stack().chat.receipts.filter((r) => r.message_id === m.messageId)).to.deep.equal([]);
    });

    it('refuses a receipt naming another user as user_id with FORBIDDEN', async () => {
      const m = await deliveredMessage(stack());
      const told = watchReceipts(m.senderPhone, m.senderLaptop);

      expectFailure(await request(m.receiverSocket, 'message_read', { message_id: m.messageId, user_id: 'mallory' }), 'FORBIDDEN');

      await roundTrips(m.senderPhone, m.senderLaptop);
      expect(told).to.deep.equal([]);
      expect(receiptCalls(stack(), m.messageId)).to.deep.equal([]);
    });

    it('answers a receipt for an unknown message with NOT_FOUND', async () => {
      const readerId = uniqueId('reader');
      const reader = await stack().connect(readerId);
      const messageId = uniqueId('no-such-message');

      expectFailure(await request(reader, 'message_delivered', { message_id: messageId }), 'NOT_FOUND');
      expectFailure(await request(reader, 'message_read', { message_id: messageId }), 'NOT_FOUND');

      expect(receiptCalls(stack(), messageId).map((c) => c.body)).to.deep.equal([
        { user_id: readerId, status: 'delivered' },
        { user_id: readerId, status: 'read' },
      ]);
    });
  });
});

/** Every receipt event the sockets get from now on, in one list. */
function watchReceipts(...sockets: ClientSocket[]): unknown[] {
  const told: unknown[] = [];
  for (const socket of sockets) {
    for (const event of ['message_status_update', 'message_read_receipt']) socket.on(event, (p: unknown) => told.push({ event, p }));
  }
  return told;
}

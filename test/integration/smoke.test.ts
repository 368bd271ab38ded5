import { expect } from 'chai';
import { messageWrites } from '../support/chatWrites.js';
import { startStack, type Stack } from '../support/stack.js';
import { nextEvent, request } from '../support/events.js';

describe('smoke: a direct message end to end', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  it('persists, relays to the receiver and acks the sender', async () => {
    const alice = await stack.connect('alice');
    const bob = await stack.connect('bob');
    const received = nextEvent(bob, 'receive_message');
    const ack = await request(alice, 'send_message', { receiver_id: 'bob', content: 'hi bob', client_msg_id: 'c1' });
    expect(ack.ok).to.equal(true);
    expect(ack.message).to.include({ sender_id: 'alice', receiver_id: 'bob', content: 'hi bob', message_type: 'text' });
    expect((await received).message.message_id).to.equal(ack.message.message_id);
    const stored = messageWrites(stack.chat);
    expect(stored).to.have.length(1);
    expect(stored[0].idempotencyKey).to.equal('alice:c1');
  });
});

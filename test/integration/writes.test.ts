import { expect } from 'chai';
import type { Socket as TcpSocket } from 'node:net';
import sinon from 'sinon';
import { RawWsClient } from '../support/rawClient.js';
import { spyOnSocketWrites } from '../support/socketWrites.js';
import { startStack, type Stack } from '../support/stack.js';

/** The gateway's Engine.IO connection of a client (its internals are untyped). */
interface EngineConnection {
  writeBuffer: unknown[];
  flush(): void;
  transport: { socket: { _socket: TcpSocket } };
}

function engineConnection(stack: Stack, engineSid: string): EngineConnection {
  return (stack.gateway.io.engine as unknown as { clients: Record<string, EngineConnection> }).clients[engineSid];
}

/** What the gateway's side of a websocket wrote to the TCP socket: one entry per write call. */
function recordWrites(stack: Stack, engineSid: string): { writes: string[]; restore(): void } {
  const spy = spyOnSocketWrites(engineConnection(stack, engineSid).transport.socket._socket);
  return {
    // A spy observes the writes; each call is one writev/write on the socket.
    get writes() {
      return spy.getCalls().map(({ args: [writev, data] }) => {
        const chunks = writev ? (data as Array<{ chunk: Buffer | string } | Buffer>).map((c) => ('chunk' in c ? c.chunk : c)) : [data as Buffer | string];
        return chunks.map((c) => c.toString()).join('');
      });
    },
    restore: () => spy.restore(),
  };
}

/** What one tick emits to one client leaves in one socket write (src/socket/coalesceWrites.ts). */
describe('socket writes', () => {
  let stack: Stack;
  beforeEach(async () => {
    stack = await startStack({ RATE_LIMIT_ENABLED: 'false' });
  });
  afterEach(() => stack.stop());

  it('sends a sender its message_sent and its ack together, in that order, in one write', async () => {
    const alice = await RawWsClient.connect(stack.url, stack.token('alice'));
    const recorded = recordWrites(stack, alice.sid);
    try {
      const ack = await alice.request('send_message', { receiver_id: 'bob', content: 'together', client_msg_id: 'w1' });
      expect(ack).to.deep.include({ kind: 'answer' });
      expect(ack.kind === 'answer' && ack.value.ok).to.equal(true);
      expect(recorded.writes, 'one write for both frames').to.have.length(1);
      const written = recorded.writes[0];
      expect(written.indexOf('42["message_sent"')).to.be.greaterThan(-1);
      expect(written.indexOf('431[')).to.be.greaterThan(written.indexOf('42["message_sent"'));
    } finally {
      recorded.restore();
      alice.close();
    }
  });

  it('runs Engine.IO\'s flush only with something queued (not again after each completed write)', async () => {
    const alice = await RawWsClient.connect(stack.url, stack.token('alice'));
    const conn = engineConnection(stack, alice.sid);
    const proto = Object.getPrototypeOf(conn) as EngineConnection;
    const engineFlush = proto.flush;
    const queuedAtFlush: number[] = [];
    sinon.replace(proto, 'flush', function (this: EngineConnection) {
      if (this === conn) queuedAtFlush.push(this.writeBuffer.length);
      engineFlush.call(this);
    });
    try {
      const ack = await alice.request('send_message', { receiver_id: 'bob', content: 'one flush', client_msg_id: 'f1' });
      expect(ack.kind === 'answer' && ack.value.ok).to.equal(true);
      // Engine.IO asks for a flush again once the write completes; give it time to run.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(queuedAtFlush, 'message_sent and the ack in one flush, no empty flush after it').to.deep.equal([2]);
    } finally {
      sinon.restore();
      alice.close();
    }
  });

  it('still delivers frames emitted in separate ticks, each in its own write', async () => {
    const alice = await RawWsClient.connect(stack.url, stack.token('alice'));
    const bob = await RawWsClient.connect(stack.url, stack.token('bob'));
    const recorded = recordWrites(stack, bob.sid);
    try {
      for (const [i, content] of ['first', 'second'].entries()) {
        const ack = await alice.request('send_message', { receiver_id: 'bob', content, client_msg_id: `s${i}` });
        expect(ack.kind === 'answer' && ack.value.ok).to.equal(true);
        await bob.next((f) => typeof f === 'string' && f.includes(`"content":"${content}"`));
      }
      expect(recorded.writes).to.have.length(2);
      expect(recorded.writes[0]).to.include('"content":"first"');
      expect(recorded.writes[1]).to.include('"content":"second"');
    } finally {
      recorded.restore();
      alice.close();
      bob.close();
    }
  });
});

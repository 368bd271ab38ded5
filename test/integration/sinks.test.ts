import { expect } from 'chai';
import { FaultInjector, createServiceApp, startService, type RecordedRequest } from '../../src/reference/serviceKit.js';
import { startStack, type Stack } from '../support/stack.js';
import { request, waitFor } from '../support/events.js';

/** A stand-in for the optional engines: records every POST and can be told to hang. */
async function startEngine() {
  const requests: RecordedRequest[] = [];
  const faults = new FaultInjector();
  const app = createServiceApp({ name: 'engine', requests, faults, idParams: [] }, (a) => {
    a.post(/\/events$/, (_req, res) => void res.status(202).json({ accepted: true }));
  });
  return startService({ app, faults, requests }, {});
}

describe('optional sinks (PRESENCE_ENGINE_URL, AI_ENGINE_URL, QUANTUM_ROOM_ENGINE_URL)', () => {
  let engine: Awaited<ReturnType<typeof startEngine>>;
  let stack: Stack;

  beforeEach(async () => {
    engine = await startEngine();
    stack = await startStack({
      PRESENCE_ENGINE_URL: `${engine.url}/presence`,
      AI_ENGINE_URL: `${engine.url}/ai`,
      QUANTUM_ROOM_ENGINE_URL: `${engine.url}/rooms`,
      RATE_LIMIT_ENABLED: 'false',
    });
    stack.chat.addRoom('lobby', ['alice', 'bob']);
  });
  afterEach(async () => {
    await stack.stop();
    await engine.close();
  });

  const bodiesAt = (path: string) => engine.requests.filter((r) => r.path === path).map((r) => r.body as Record<string, unknown>);

  it('posts presence changes, persisted messages and room joins each to its engine', async () => {
    const alice = await stack.connect('alice');
    const ack = await request(alice, 'send_message', { receiver_id: 'bob', content: 'hello' });
    await request(alice, 'join_room', { room_id: 'lobby' });
    alice.disconnect();
    await waitFor(() => bodiesAt('/presence/events').length === 2 && bodiesAt('/ai/events').length === 1 && bodiesAt('/rooms/events').length === 1);

    expect(bodiesAt('/presence/events').map((b) => [b.type, b.user_id])).to.deep.equal([
      ['user_online', 'alice'],
      ['user_offline', 'alice'],
    ]);
    expect(bodiesAt('/ai/events')[0]).to.include({ type: 'message_persisted', message_id: ack.message.message_id, sender_id: 'alice' });
    expect(bodiesAt('/rooms/events')[0]).to.include({ type: 'room_joined', room_id: 'lobby', user_id: 'alice' });
    for (const body of [...bodiesAt('/presence/events'), ...bodiesAt('/ai/events')]) {
      expect(Date.parse(body.at as string)).to.be.a('number').and.not.NaN;
      expect(body).not.to.have.property('content');
    }
  });

  it('never delays a client: messages are acked while the engines hang', async () => {
    engine.faults.add({ hang: true });
    const alice = await stack.connect('alice');
    for (let i = 0; i < 3; i++) {
      const ack = await request(alice, 'send_message', { receiver_id: 'bob', content: `m${i}` }, 1500);
      expect(ack.ok).to.equal(true);
    }
    await waitFor(() => bodiesAt('/ai/events').length === 3, 3000, 'three events at the hanging engine');
    engine.faults.clear();
  });
});

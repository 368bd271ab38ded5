import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket as TcpSocket } from 'node:net';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { createLogger } from '../../src/observability/logger.js';
import { createEchoSkippingAdapter, EchoSkippingParser } from '../../src/redis/EchoSkippingParser.js';
import { RedisConnections } from '../../src/redis/RedisConnections.js';
import { collect, sleep, waitFor } from '../support/events.js';
import { requireRedis, startRedis, type RedisServer } from '../support/redis.js';
import { spyOnSocketWrites } from '../support/socketWrites.js';

const KEY = 'test:socket.io';

/** A Socket.IO server on a loopback port with the cluster adapter; every socket joins room "r". */
async function startInstance(url: string, parser: EchoSkippingParser) {
  const pub = new Redis(url);
  const sub = new Redis(url);
  const http: HttpServer = createServer();
  const io = new Server(http);
  io.adapter(createEchoSkippingAdapter(pub, sub, KEY, parser));
  io.on('connection', (socket) => socket.join('r'));
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const client: ClientSocket = connectClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'] });
  await new Promise((resolve) => client.once('connect', () => resolve(undefined)));
  return {
    io,
    client,
    uid: (io.of('/').adapter as unknown as { uid: string }).uid,
    async stop() {
      client.close();
      await io.close();
      pub.disconnect();
      sub.disconnect();
    },
  };
}

/** What cluster mode sends through Redis (src/redis/). */
describe('cluster mode: the Socket.IO adapter over Redis', () => {
  let redis: RedisServer;
  before(async function () {
    requireRedis(this);
    redis = await startRedis();
  });
  after(() => redis?.stop());

  it('an instance answers its own broadcast, read back from Redis, with its id alone; another decodes it whole and delivers it, once on each side', async () => {
    const parsers = [new EchoSkippingParser(), new EchoSkippingParser()];
    const [a, b] = [await startInstance(redis.url, parsers[0]), await startInstance(redis.url, parsers[1])];
    // The bytes of each broadcast, as every subscriber gets them.
    const raw = new Redis(redis.url);
    const published: Buffer[] = [];
    raw.on('pmessageBuffer', (_pattern: Buffer, _channel: Buffer, message: Buffer) => published.push(message));
    await raw.psubscribe(`${KEY}#*`);
    const admin = new Redis(redis.url);
    try {
      // Both adapters and `raw` are subscribed before the broadcast.
      const patternSubscribers = async () => String(await admin.client('LIST')).split('\n').filter((c) => /\bpsub=1\b/.test(c)).length;
      await waitFor(async () => (await patternSubscribers()) === 3, 3000, 'three pattern subscribers');
      const seenOnA = collect(a.client, 'hello');
      const seenOnB = collect(b.client, 'hello');
      a.io.to('r').emit('hello', { n: 1 });
      await waitFor(() => published.length === 1 && seenOnB.length === 1, 3000);

      expect(parsers[0].decode(published[0])).to.deep.equal([a.uid]);
      const [uid, packet] = parsers[1].decode(published[0]) as [string, { data: unknown[] }];
      expect(uid).to.equal(a.uid);
      expect(packet.data).to.deep.equal(['hello', { n: 1 }]);
      // Nothing more arrives: the echo was not delivered a second time on A.
      await sleep(200);
      expect(seenOnA).to.deep.equal([{ n: 1 }]);
      expect(seenOnB).to.deep.equal([{ n: 1 }]);
    } finally {
      raw.disconnect();
      admin.disconnect();
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('the publishes of one tick leave in one write to Redis, and arrive in order', async () => {
    const logger = createLogger({ level: 'error', service: 'test', instanceId: 't', silent: true });
    const connections = new RedisConnections(redis.url, logger, () => {});
    const raw = new Redis(redis.url);
    const received: string[] = [];
    raw.on('message', (_channel: string, message: string) => received.push(message));
    await raw.subscribe('ticks');
    try {
      if (connections.pub.status !== 'ready') await once(connections.pub, 'ready');
      const writes = spyOnSocketWrites(connections.pub.stream as TcpSocket);
      const sent = Array.from({ length: 20 }, (_, i) => `m${i}`);
      for (const m of sent) void connections.pub.publish('ticks', m);
      await waitFor(() => received.length === sent.length, 3000);
      writes.restore();
      expect(received).to.deep.equal(sent);
      expect(writes.callCount).to.equal(1);
    } finally {
      raw.disconnect();
      await connections.close();
    }
  });
});

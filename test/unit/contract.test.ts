import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { Server } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/config.js';
import { asyncApiDocument } from '../../src/contract/asyncapi.js';
import { clientEvents } from '../../src/contract/index.js';
import { errors } from '../../src/errors/GatewayError.js';
import { InFlight } from '../../src/lifecycle/InFlight.js';
import { EventRateLimiter, memoryLimiter } from '../../src/limits/EventRateLimiter.js';
import { FloodGuard } from '../../src/limits/FloodGuard.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { Dispatcher } from '../../src/socket/dispatcher.js';
import type { GatewayServer } from '../../src/io/GatewayServer.js';
import type { EventHandlers } from '../../src/socket/types.js';
import { request } from '../support/events.js';
import { throwawayClientEvents, throwawayServerEvents, type ThrowawayClientEvents } from '../support/throwawayContract.js';

const config = loadConfig({ CHAT_SERVICE_URL: 'http://chat.internal:8080', JWT_SECRET: 'a-secret-of-16-chars-or-more' });

/** Handlers of the contract's own events; not called here. */
const notUnderTest = Object.fromEntries(
  Object.keys(clientEvents).map((event) => [event, async () => Promise.reject(errors.internal(`${event} is not under test`))]),
) as unknown as EventHandlers;

/** What set_mood's handler was given, in order. */
const moods: unknown[] = [];
const handlers: EventHandlers<ThrowawayClientEvents> = {
  ...notUnderTest,
  async set_mood(_ctx, payload) {
    moods.push(payload);
    return { mood: payload.mood };
  },
};

/** A Socket.IO server on a loopback port whose only middleware is a dispatcher built from `contract`. */
async function serveDispatcher<C extends typeof clientEvents>(contract: C, eventHandlers: EventHandlers<C>) {
  const metrics = createMetrics();
  const dispatcher = new Dispatcher(contract, eventHandlers, {
    maxPayloadBytes: config.maxPayloadBytes,
    limiter: new EventRateLimiter(config.rateLimit, metrics, memoryLimiter),
    floodGuard: new FloodGuard(config.floodDisconnectAfter, metrics),
    inFlight: new InFlight(),
    metrics,
    logger: createLogger({ level: 'error', service: 'test', instanceId: 'contract-test', silent: true }),
    draining: () => false,
  });
  const httpServer = http.createServer();
  const io: GatewayServer = new Server(httpServer);
  io.use((socket, next) => {
    socket.data = { userId: 'alice', tokenExpiresAt: null, lastActivityAt: Date.now(), strikes: 0, strikesSince: Date.now() };
    next();
  });
  io.on('connection', (socket) => dispatcher.attach(socket));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const client = connectClient(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('connect_error', reject));
  return {
    client,
    close: async () => {
      client.disconnect();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

describe('the contract drives the gateway: a throwaway event added to a copy of it', () => {
  describe('is validated by a dispatcher built with that copy', () => {
    let served: Awaited<ReturnType<typeof serveDispatcher>>;
    let client: ClientSocket;
    before(async () => {
      served = await serveDispatcher(throwawayClientEvents, handlers);
      client = served.client;
    });
    after(() => served.close());
    beforeEach(() => void (moods.length = 0));

    it('accepts a payload that matches its schema, hands the parsed payload to the handler and acks its data', async () => {
      expect(await request(client, 'set_mood', { mood: 'happy', ignored: 1 })).to.deep.equal({ ok: true, mood: 'happy' });
      expect(moods).to.deep.equal([{ mood: 'happy' }]);
    });

    for (const [what, payload, message] of [
      ['a mood the schema does not list', { mood: 'grumpy' }, /^mood: /],
      ['no mood', {}, /^mood: /],
      ['an `until` over its 32 characters', { mood: 'sad', until: 'x'.repeat(33) }, /^until: /],
      ['a string payload', 'happy', /payload must be an object/],
    ] as const) {
      it(`refuses ${what} with VALIDATION_FAILED before the handler runs`, async () => {
        const ack = await request(client, 'set_mood', payload);
        expect(ack.ok).to.equal(false);
        expect(ack.error.code).to.equal('VALIDATION_FAILED');
        expect(ack.error.message).to.match(message);
        expect(moods).to.deep.equal([]);
      });
    }

    it('still validates the contract\'s own events in the copy', async () => {
      const ack = await request(client, 'typing', { receiver_id: 'bob', room_id: 'general' });
      expect(ack.error).to.include({ code: 'VALIDATION_FAILED', message: 'give exactly one of receiver_id and room_id' });
    });
  });

  it('is an unknown event to a dispatcher built with the contract itself', async () => {
    const served = await serveDispatcher(clientEvents, notUnderTest);
    try {
      const ack = await request(served.client, 'set_mood', { mood: 'happy' });
      expect(ack.error).to.include({ code: 'VALIDATION_FAILED', message: 'unknown event' });
    } finally {
      await served.close();
    }
  });

  it('is listed by the AsyncAPI document built from that copy, with its payload, ack and codes', async () => {
    const document = asyncApiDocument(throwawayClientEvents, throwawayServerEvents);
    const result = await new Parser().parse(stringify(document, { aliasDuplicateObjects: false }));
    expect(result.diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).map((d) => d.message)).to.deep.equal([]);
    const parsed = result.document!;
    const received = parsed.operations().filterByReceive().flatMap((op) => op.channels().all().map((c) => c.address()));
    expect(received).to.include('set_mood');
    const sent = parsed.operations().filterBySend().flatMap((op) => op.channels().all().map((c) => c.address()));
    expect(sent).to.include('mood_changed');

    const messages = (document.components as { messages: Record<string, { payload: any }> }).messages; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(messages.SetMood.payload.properties.mood.enum).to.deep.equal(['happy', 'sad']);
    expect(messages.SetMood.payload.required).to.deep.equal(['mood']);
    const [success, failure] = messages.SetMoodAck.payload.oneOf;
    expect(success.required).to.deep.equal(['ok', 'mood']);
    expect(failure.properties.error.properties.code.enum).to.deep.equal([...throwawayClientEvents.set_mood.errors]);
    expect(messages.MoodChanged.payload.required).to.deep.equal(['user_id', 'mood']);
  });
});

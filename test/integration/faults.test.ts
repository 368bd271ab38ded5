import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import { MAX_CALLS_IN_FLIGHT, MAX_CALLS_WAITING } from '../../src/clients/ServiceClient.js';
import type { Fault, RecordedRequest } from '../../src/reference/serviceKit.js';
import { startStack, type Stack } from '../support/stack.js';
import { collect, nextEvent, request, sleep, waitFor } from '../support/events.js';
import { counter, scrape } from '../support/metrics.js';

/**
 * Contract sections 3 and 6: how a chat-service failure reaches the sender, and what the
 * chat-service receives under the retry / breaker / timeout policies.
 */

const TIMEOUT_MS = 250;
const RETRIES = 2;
const THRESHOLD = 3;
const HALF_OPEN_AFTER_MS = 300;
const FAULT_ENV = {
  CHAT_SERVICE_TIMEOUT_MS: String(TIMEOUT_MS),
  CHAT_SERVICE_RETRIES: String(RETRIES),
  BREAKER_FAILURE_THRESHOLD: String(THRESHOLD),
  BREAKER_HALF_OPEN_AFTER_MS: String(HALF_OPEN_AFTER_MS),
  RATE_LIMIT_ENABLED: 'false',
  // Single calls: each attempt shows the message's own Idempotency-Key. The policies are the
  // same for a batch call (its retries: batching.test.ts).
  CHAT_BATCH_ENDPOINTS: 'false',
};
const POST_MESSAGES = { method: 'POST', path: /^\/messages$/ };
const KEY = 'alice:c1';

describe('chat-service faults (retry, timeout and circuit breaker policies)', () => {
  let stack: Stack;
  let alice: ClientSocket;
  let bob: ClientSocket;
  let bobInbox: Array<{ message: { message_id: string } }>;

  /** A fresh stack per test: breaker state and fault counters never leak between tests. */
  async function boot(env: Record<string, string> = {}): Promise<void> {
    stack = await startStack({ ...FAULT_ENV, ...env });
    alice = await stack.connect('alice');
    bob = await stack.connect('bob');
    bobInbox = collect(bob, 'receive_message');
  }

  afterEach(() => stack?.stop());

  const send = (extra: Record<string, unknown> = {}) =>
    request(alice, 'send_message', { receiver_id: 'bob', content: 'hello bob', client_msg_id: 'c1', ...extra });

  const failMessages = (fault: Fault) => stack.chat.faults.add({ match: POST_MESSAGES, ...fault });

  const messageAttempts = (): RecordedRequest[] =>
    stack.chat.requests.filter((r) => r.method === 'POST' && r.path === '/messages');

  /** Every event alice caused for bob before this call has reached bob once it returns. */
  async function flushToBob(): Promise<void> {
    const stopped = nextEvent(bob, 'user_stop_typing');
    await request(alice, 'typing', { receiver_id: 'bob' });
    await request(alice, 'stop_typing', { receiver_id: 'bob' });
    await stopped;
  }

  function expectKeyOnEveryAttempt(attempts: RecordedRequest[], count: number): void {
    expect(attempts.map((a) => a.headers['idempotency-key'])).to.deep.equal(Array(count).fill(KEY));
  }

  /** Acked ok, stored exactly once, relayed to bob exactly once, all with the same id. */
  async function expectStoredOnce(ack: any): Promise<void> {
    expect(ack, JSON.stringify(ack)).to.include({ ok: true });
    const id = ack.message.message_id;
    expect([...stack.chat.messages.keys()]).to.deep.equal([id]);
    await waitFor(() => bobInbox.length > 0, 3000, 'receive_message at bob');
    await flushToBob();
    expect(bobInbox.map((e) => e.message.message_id)).to.deep.equal([id]);
  }

  /** Acked with the error, nothing stored, nothing relayed. */
  async function expectRefused(ack: any, code: string, retryable: boolean): Promise<void> {
    expect(ack, JSON.stringify(ack)).to.include({ ok: false });
    expect(ack.error).to.include({ code, retryable });
    expect(stack.chat.messages.size).to.equal(0);
    await flushToBob();
    expect(bobInbox).to.deep.equal([]);
  }

  async function breakerGauge(): Promise<number> {
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    const match = /^gateway_circuit_breaker_state\{service="chat"\} (\d+)$/m.exec(text);
    expect(match, 'gateway_circuit_breaker_state{service="chat"} in /metrics').to.not.equal(null);
    return Number(match![1]);
  }

  describe('when the chat-service is unreachable', () => {
    beforeEach(() => boot());

    it('acks SERVICE_UNAVAILABLE (retryable) and relays nothing when connections are refused', async () => {
      await stack.chat.close();
      const ack = await send();
      await expectRefused(ack, 'SERVICE_UNAVAILABLE', true);
    });
  });

  describe('transient failures of a keyed message', () => {
    beforeEach(() => boot());

    const transient: Array<[string, Fault]> = [
      ['a 500', { status: 500, body: { error: { code: 'INTERNAL', message: 'boom' } } }],
      ['a 503 with Retry-After: 0', { status: 503, headers: { 'Retry-After': '0' } }],
      ['a 429', { status: 429 }],
      ['a 408', { status: 408 }],
      ['a dropped connection', { destroy: true }],
    ];
    for (const [what, fault] of transient) {
      it(`retries after ${what} with the same Idempotency-Key and stores the message once`, async () => {
        failMessages({ ...fault, times: 1 });
        const ack = await send();
        await expectStoredOnce(ack);
        expectKeyOnEveryAttempt(messageAttempts(), 2);
      });
    }

    it('does not retry a 503 whose Retry-After is longer than the per-attempt timeout', async () => {
      failMessages({ status: 503, headers: { 'Retry-After': '5' }, times: 1 });
      const ack = await send();
      await expectRefused(ack, 'SERVICE_UNAVAILABLE', true);
      expectKeyOnEveryAttempt(messageAttempts(), 1);
    });

    it('does not retry a message without client_msg_id (no Idempotency-Key) on a 500', async () => {
      failMessages({ status: 500, times: 1 });
      const ack = await send({ client_msg_id: undefined });
      await expectRefused(ack, 'SERVICE_UNAVAILABLE', true);
      const attempts = messageAttempts();
      expect(attempts).to.have.length(1);
      expect(attempts[0].headers).to.not.have.property('idempotency-key');
    });

    it('gives up after 1 + CHAT_SERVICE_RETRIES attempts on a persistent 500', async () => {
      failMessages({ status: 500 });
      const ack = await send();
      await expectRefused(ack, 'SERVICE_UNAVAILABLE', true);
      expectKeyOnEveryAttempt(messageAttempts(), 1 + RETRIES);
    });
  });

  describe('a Retry-After within the per-attempt timeout', () => {
    beforeEach(() => boot({ CHAT_SERVICE_TIMEOUT_MS: '1500' }));

    it('is waited for before the retry, which stores the message', async () => {
      failMessages({ status: 503, headers: { 'Retry-After': '1' }, times: 1 });
      const ack = await send();
      await expectStoredOnce(ack);
      const attempts = messageAttempts();
      expectKeyOnEveryAttempt(attempts, 2);
      expect(attempts[1].at - attempts[0].at, 'ms between the attempts').to.be.at.least(1000);
    });
  });

  describe('permanent 4xx answers', () => {
    beforeEach(() => boot());

    const permanent: Array<[number, string]> = [
      [400, 'VALIDATION_FAILED'],
      [403, 'FORBIDDEN'],
    ];
    for (const [status, code] of permanent) {
      it(`maps a ${status} to ${code} after exactly one attempt`, async () => {
        failMessages({ status, body: { error: { code, message: 'refused' } } });
        const ack = await send();
        await expectRefused(ack, code, false);
        expectKeyOnEveryAttempt(messageAttempts(), 1);
      });
    }

    it('never open the breaker, however many come in a row', async () => {
      const statuses = [400, 403, 404, 409, 422, 400];
      for (const status of statuses) failMessages({ status, times: 1 });
      for (const [i, status] of statuses.entries()) {
        const ack = await send({ client_msg_id: `bad-${i}` });
        expect(ack.ok, `send answered with ${status}`).to.equal(false);
        expect(ack.error.retryable, `send answered with ${status}`).to.equal(false);
      }
      expect(messageAttempts()).to.have.length(statuses.length);
      expect(await breakerGauge()).to.equal(0);
      await expectStoredOnce(await send());
    });
  });

  describe('a chat-service that does not answer within CHAT_SERVICE_TIMEOUT_MS', () => {
    beforeEach(() => boot());

    it('acks TIMEOUT (retryable) after 1 + CHAT_SERVICE_RETRIES attempts when every attempt hangs', async () => {
      failMessages({ hang: true });
      const ack = await send();
      await expectRefused(ack, 'TIMEOUT', true);
      expectKeyOnEveryAttempt(messageAttempts(), 1 + RETRIES);
    });

    it('closes the request of every attempt that timed out instead of leaving it open', async () => {
      failMessages({ hang: true });
      await expectRefused(await send(), 'TIMEOUT', true);
      expect(messageAttempts()).to.have.length(1 + RETRIES);
      await waitFor(() => stack.chat.faults.holding === 0, 2000, 'the chat-service to see every attempt closed');
    });

    it('retries an attempt that hung and stores the message once', async () => {
      failMessages({ hang: true, times: 1 });
      const ack = await send();
      await expectStoredOnce(ack);
      expectKeyOnEveryAttempt(messageAttempts(), 2);
    });

    it('lets a client retry with the same client_msg_id after a timeout without creating a second message', async () => {
      failMessages({ hang: true });
      const first = await send();
      expect(first, JSON.stringify(first)).to.include({ ok: false });
      expect(first.error.retryable).to.equal(true);
      // The exact code for a timeout is pinned by the tests above; this one is about idempotency.
      expect(first.error.code).to.be.oneOf(['TIMEOUT', 'SERVICE_UNAVAILABLE']);
      stack.chat.faults.clear();

      // The chat-service commits the attempt the gateway gave up on, late: replay it as recorded.
      const late = messageAttempts().at(-1)!;
      const committed = await fetch(`${stack.chat.url}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': String(late.headers['idempotency-key']) },
        body: JSON.stringify(late.body),
      });
      expect(committed.status).to.equal(201);
      const [storedId] = stack.chat.messages.keys();

      // Timed-out attempts count as breaker failures: the client backs off past the open breaker.
      await sleep(HALF_OPEN_AFTER_MS + 100);
      const retry = await send();
      expect(retry, JSON.stringify(retry)).to.include({ ok: true });
      expect(retry.message.message_id).to.equal(storedId);
      await expectStoredOnce(retry);
      expect(messageAttempts().every((a) => a.headers['idempotency-key'] === KEY)).to.equal(true);
    });
  });

  describe('the circuit breaker', () => {
    beforeEach(() => boot());

    it('opens after BREAKER_FAILURE_THRESHOLD failing calls, fails fast, and closes again after BREAKER_HALF_OPEN_AFTER_MS', async () => {
      failMessages({ status: 500 });
      // Unkeyed sends are not retried: one call each.
      for (let i = 0; i < THRESHOLD; i++) {
        const ack = await send({ client_msg_id: undefined });
        expect(ack.error?.code, `failing call ${i + 1}`).to.equal('SERVICE_UNAVAILABLE');
      }
      expect(messageAttempts()).to.have.length(THRESHOLD);
      expect(await breakerGauge()).to.equal(1);

      const fastFail = await send();
      await expectRefused(fastFail, 'SERVICE_UNAVAILABLE', true);
      expect(messageAttempts(), 'calls reaching the chat-service while open').to.have.length(THRESHOLD);

      stack.chat.faults.clear();
      await sleep(HALF_OPEN_AFTER_MS + 100);
      await expectStoredOnce(await send());
      expect(await breakerGauge()).to.equal(0);
    });
  });

  describe('more sends at once than the chat-service client lets in flight', () => {
    const HOLD_MS = 1500;
    const EXCESS = 24;
    beforeEach(() => boot({ CHAT_BATCH_ENDPOINTS: 'false', CHAT_SERVICE_TIMEOUT_MS: String(HOLD_MS * 4) }));

    it('refuses the excess with SERVICE_UNAVAILABLE (retryable), counts it, and stores every other message once', async () => {
      const bound = MAX_CALLS_IN_FLIGHT + MAX_CALLS_WAITING;
      // Every message is held by the chat-service before it is stored, so calls pile up.
      failMessages({ delayMs: HOLD_MS });
      const acks = await Promise.all(
        Array.from({ length: bound + EXCESS }, (_, i) =>
          request(alice, 'send_message', { receiver_id: 'bob', content: `burst ${i}`, client_msg_id: `burst-${i}` }, HOLD_MS * 8),
        ),
      );

      const refused = acks.filter((a) => !a.ok);
      for (const ack of refused) {
        expect(ack.error, JSON.stringify(ack)).to.include({ code: 'SERVICE_UNAVAILABLE', retryable: true });
        expect(ack.error.message).to.match(/overloaded/);
      }
      expect(refused.length, 'sends refused').to.be.within(1, EXCESS);
      const storedIds = acks.filter((a) => a.ok).map((a) => a.message.message_id);
      expect(storedIds.length + refused.length).to.equal(bound + EXCESS);
      // A refused send never reached the chat-service; the others were stored once each.
      expect(messageAttempts()).to.have.length(storedIds.length);
      expect([...stack.chat.messages.keys()].sort()).to.deep.equal([...storedIds].sort());
      const overloaded = { service: 'chat', operation: 'create_message', outcome: 'overloaded' };
      expect(counter(await scrape(stack), 'gateway_outgoing_request_duration_seconds_count', overloaded)).to.equal(refused.length);
    });
  });

  describe('receipts', () => {
    beforeEach(() => boot());

    it('retries message_delivered after a 500 with the same Idempotency-Key and records it once', async () => {
      const sent = await send();
      await expectStoredOnce(sent);
      const messageId: string = sent.message.message_id;
      const receiptPath = `/messages/${messageId}/receipts`;
      stack.chat.faults.add({ status: 500, times: 1, match: { method: 'POST', path: /^\/messages\/[^/]+\/receipts$/ } });

      const statusUpdate = nextEvent(alice, 'message_status_update');
      const ack = await request(bob, 'message_delivered', { message_id: messageId });
      expect(ack, JSON.stringify(ack)).to.deep.equal({ ok: true, message_id: messageId, status: 'delivered' });
      expect(await statusUpdate).to.include({ message_id: messageId, status: 'delivered', user_id: 'bob' });
      const attempts = stack.chat.requests.filter((r) => r.method === 'POST' && r.path === receiptPath);
      expect(attempts.map((a) => a.headers['idempotency-key'])).to.deep.equal([`bob:${messageId}:delivered`, `bob:${messageId}:delivered`]);
      expect(stack.chat.receipts.filter((r) => r.message_id === messageId)).to.have.length(1);
    });
  });
});

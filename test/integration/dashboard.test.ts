import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import { request, waitFor } from '../support/events.js';
import { counter, sample, samples, scrape } from '../support/metrics.js';
import { expectFailure, expectIsoTime, health, uniqueId, useStack } from '../support/scenarios.js';
import type { Stack } from '../support/stack.js';

const ADMIN_KEY = 'admin-key-for-the-dashboard';
const PUSH_KEYS = ['push-1', 'push-2'];
const SNAPSHOT = '/admin/api/snapshot';
const LATENCY = 'gateway_outgoing_request_duration_seconds';

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/** GET on the gateway's HTTP port with `X-Admin-Key: key` (none when null); JSON bodies parsed. */
async function get(stack: Stack, path: string, key: string | null = null): Promise<Reply> {
  const res = await fetch(stack.url + path, { headers: key === null ? {} : { 'x-admin-key': key } });
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.includes('json');
  return { status: res.status, headers: res.headers, body: isJson ? JSON.parse(text) : text };
}

/** Asserts the dashboard API's error answer. */
function expectError(reply: Reply, status: number, code: string): void {
  expect(reply.status, `status of ${JSON.stringify(reply.body)}`).to.equal(status);
  expect(reply.body.error.code).to.equal(code);
  expect(reply.body.error.message).to.be.a('string').that.is.not.empty;
}

/** The snapshot, asserting a 200. */
async function snapshot(stack: Stack, key = ADMIN_KEY): Promise<any> {
  const reply = await get(stack, SNAPSHOT, key);
  expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
  return reply.body;
}

/** Sum of every sample of `name` with `labels`. */
function total(text: string, name: string, labels: Record<string, string>): number {
  return samples(text, name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/**
 * The bounds (ms) of the /metrics bucket that holds the `q` quantile of `service`'s calls, over
 * every operation and outcome: an estimate from the buckets must lie between them.
 */
function quantileBucket(text: string, service: string, q: number): [number, number] {
  const byBound = new Map<number, number>();
  for (const s of samples(text, `${LATENCY}_bucket`).filter((s) => s.labels.service === service)) {
    byBound.set(Number(s.labels.le), (byBound.get(Number(s.labels.le)) ?? 0) + s.value);
  }
  const count = total(text, `${LATENCY}_count`, { service });
  let lower = 0;
  for (const [le, cumulative] of [...byBound].sort(([a], [b]) => a - b)) {
    if (cumulative >= q * count) return [lower * 1000, le * 1000];
    lower = le;
  }
  throw new Error(`no bucket holds the ${q} quantile`);
}

describe('operations dashboard API (GET /admin/api/snapshot)', () => {
  describe('with ADMIN_API_KEY and PUSH_API_KEYS set', () => {
    const stack = useStack({ ADMIN_API_KEY: ADMIN_KEY, PUSH_API_KEYS: PUSH_KEYS.join(','), RATE_LIMIT_ENABLED: 'false' });

    it('answers 401 UNAUTHORIZED without an X-Admin-Key header or with an empty one', async () => {
      expectError(await get(stack(), SNAPSHOT), 401, 'UNAUTHORIZED');
      expectError(await get(stack(), SNAPSHOT, ''), 401, 'UNAUTHORIZED');
    });

    it('answers 403 FORBIDDEN for a wrong key, and for push keys once an admin key is set', async () => {
      for (const key of ['wrong', ADMIN_KEY.toUpperCase(), `${ADMIN_KEY}x`, ADMIN_KEY.slice(1), ...PUSH_KEYS]) {
        expectError(await get(stack(), SNAPSHOT, key), 403, 'FORBIDDEN');
      }
    });

    it('serves the page, its script, styles and Chart.js without a key, with no secret in them', async () => {
      const page = await get(stack(), '/admin');
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      expect(page.body).to.include('src="/admin/dashboard.js"').and.include('src="/admin/chart.umd.js"');
      expect(page.body).to.include('data-api="enabled"');
      const script = await get(stack(), '/admin/dashboard.js');
      expect(script.status).to.equal(200);
      expect(script.headers.get('content-type')).to.match(/javascript/);
      expect(script.body).to.include('/admin/api/snapshot').and.include('X-Admin-Key');
      const css = await get(stack(), '/admin/dashboard.css');
      expect(css.status).to.equal(200);
      expect(css.headers.get('content-type')).to.match(/^text\/css/);
      const chart = await get(stack(), '/admin/chart.umd.js');
      expect(chart.status).to.equal(200);
      expect(chart.headers.get('content-type')).to.match(/javascript/);
      expect(chart.body).to.include('Chart.js v4');
      for (const served of [page.body, script.body, css.body]) {
        for (const secret of [ADMIN_KEY, ...PUSH_KEYS]) expect(served).not.to.include(secret);
      }
    });

    it("serves the page under a CSP that allows scripts and styles from 'self' only", async () => {
      const csp = (await get(stack(), '/admin')).headers.get('content-security-policy') ?? '';
      expect(csp).to.include("script-src 'self'").and.include("style-src 'self'");
      expect(csp).not.to.include('unsafe-inline');
      expect(csp).not.to.include('unsafe-eval');
      expect((await get(stack(), SNAPSHOT, ADMIN_KEY)).headers.get('cache-control')).to.equal('no-store');
    });

    describe('after some traffic', () => {
      const alice = uniqueId('alice');
      const bob = uniqueId('bob');
      const roomIds = [uniqueId('room'), uniqueId('room')];
      let sockets: ClientSocket[] = [];

      before(async () => {
        for (const roomId of roomIds) stack().chat.addRoom(roomId, [alice, bob]);
        sockets = [await stack().connect(alice), await stack().connect(alice), await stack().connect(bob)];
        for (const roomId of roomIds) expect((await request(sockets[0], 'join_room', { room_id: roomId })).ok).to.equal(true);
        expect((await request(sockets[0], 'send_message', { room_id: roomIds[0], content: 'hello room' })).ok).to.equal(true);
        expect((await request(sockets[2], 'send_message', { receiver_id: alice, content: 'hi alice' })).ok).to.equal(true);
        expectFailure(await request(sockets[2], 'send_message', { receiver_id: alice, content: '' }), 'VALIDATION_FAILED');
      });
      after(() => {
        for (const s of sockets) s.disconnect();
      });

      it('counts the open sockets, online users and chat rooms as /metrics and /health do', async () => {
        const snap = await snapshot(stack());
        const metrics = await scrape(stack());
        expect(snap.connections).to.equal(3);
        expect(snap.connections).to.equal(sample(metrics, 'gateway_connections'));
        expect(snap.connections).to.equal((await health(stack())).connections);
        expect(snap.online_users).to.equal(2);
        expect(snap.online_users).to.equal(sample(metrics, 'gateway_online_users'));
        expect(snap.rooms, 'room:* rooms only, not user or socket rooms').to.equal(roomIds.length);
      });

      it('follows sockets as they leave', async () => {
        const extra = await stack().connect(bob);
        expect((await snapshot(stack())).connections).to.equal(4);
        extra.disconnect();
        await waitFor(async () => (await snapshot(stack())).connections === 3, 3000, 'the snapshot to count 3 connections');
        expect(sample(await scrape(stack()), 'gateway_connections')).to.equal(3);
      });

      it('counts events by name and outcome as gateway_events_total does', async () => {
        const snap = await snapshot(stack());
        const metrics = await scrape(stack());
        const sends = snap.events.find((e: any) => e.event === 'send_message');
        expect(sends).to.deep.equal({ event: 'send_message', total: 3, errors: 1, outcomes: { ok: 2, VALIDATION_FAILED: 1 } });
        for (const e of snap.events) {
          for (const [outcome, n] of Object.entries(e.outcomes)) {
            expect(n, `${e.event} ${outcome}`).to.equal(counter(metrics, 'gateway_events_total', { event: e.event, outcome }));
          }
        }
        expect(snap.events_total).to.equal(total(metrics, 'gateway_events_total', {}));
        expect(snap.events.map((e: any) => e.event)).to.include.members(['join_room', 'send_message']);
      });

      it("reports the chat-service's calls, latency and closed breaker from the same histogram", async () => {
        const snap = await snapshot(stack());
        const metrics = await scrape(stack());
        const chat = snap.services.find((s: any) => s.service === 'chat');
        expect(chat, JSON.stringify(snap.services)).to.include({ breaker: 'closed', errors: 0 });
        expect(sample(metrics, 'gateway_circuit_breaker_state', { service: 'chat' })).to.equal(0);
        expect(chat.requests).to.be.greaterThan(0);
        expect(chat.requests).to.equal(total(metrics, `${LATENCY}_count`, { service: 'chat' }));
        const sumMs = total(metrics, `${LATENCY}_sum`, { service: 'chat' }) * 1000;
        expect(chat.mean_ms).to.be.closeTo(sumMs / chat.requests, 0.001);
        const [p50Low, p50High] = quantileBucket(metrics, 'chat', 0.5);
        const [p95Low, p95High] = quantileBucket(metrics, 'chat', 0.95);
        expect(chat.p50_ms).to.be.within(p50Low, p50High);
        expect(chat.p95_ms).to.be.within(p95Low, p95High);
        expect(chat.p95_ms).to.be.at.least(chat.p50_ms);
        expect(chat.buckets.at(-1).count).to.be.at.most(chat.requests);
        const auth = snap.services.find((s: any) => s.service === 'auth');
        expect(auth?.breaker).to.equal('closed');
      });

      it('names the instance and reports uptime, event-loop lag, memory and the limit counters', async () => {
        // Each scrape resets the delay monitor: let it record a few 20 ms intervals first.
        await new Promise((resolve) => setTimeout(resolve, 150));
        const snap = await snapshot(stack());
        const metrics = await scrape(stack());
        expect(snap.instance_id).to.equal(stack().gateway.config.instanceId);
        expectIsoTime(snap.timestamp, 'timestamp');
        expect(snap.uptime_s).to.be.a('number').and.at.least(0);
        expect(snap.event_loop.lag_ms).to.be.a('number').and.at.least(0);
        // The delay above the monitor's interval (no timing bound: tests carry no thresholds).
        expect(snap.event_loop.lag_p99_ms).to.be.a('number').and.at.least(0);
        expect(snap.memory.rss_bytes).to.be.a('number').and.greaterThan(0);
        expect(snap.memory.heap_used_bytes).to.be.a('number').and.greaterThan(0);
        expect(snap.memory.heap_total_bytes).to.be.at.least(snap.memory.heap_used_bytes);
        expect(snap.rate_limit_rejections).to.deep.equal({});
        expect(snap.forced_disconnects).to.deep.equal({});
        expect(counter(metrics, 'gateway_rate_limit_rejections_total')).to.equal(0);
      });
    });
  });

  describe('with only PUSH_API_KEYS set', () => {
    const stack = useStack({ PUSH_API_KEYS: PUSH_KEYS.join(',') });

    it('accepts every push key and refuses any other', async () => {
      for (const key of PUSH_KEYS) expect((await snapshot(stack(), key)).instance_id).to.equal(stack().gateway.config.instanceId);
      expectError(await get(stack(), SNAPSHOT, ADMIN_KEY), 403, 'FORBIDDEN');
      expectError(await get(stack(), SNAPSHOT), 401, 'UNAUTHORIZED');
    });
  });

  describe('with no key configured', () => {
    const stack = useStack({ PUSH_API_KEYS: '' });

    it('answers 404 NOT_FOUND for the API, with or without a key', async () => {
      expectError(await get(stack(), SNAPSHOT), 404, 'NOT_FOUND');
      expectError(await get(stack(), SNAPSHOT, ADMIN_KEY), 404, 'NOT_FOUND');
      expectError(await get(stack(), '/admin/api/anything', 'x'), 404, 'NOT_FOUND');
    });

    it('still serves the page, which says the API is disabled', async () => {
      const page = await get(stack(), '/admin');
      expect(page.status).to.equal(200);
      expect(page.body).to.include('data-api="disabled"').and.include('Dashboard API disabled');
    });
  });
});

import type { Socket as ClientSocket } from 'socket.io-client';
import { startStack, type Stack } from '../../support/stack.js';
import { nextEvent, request, sleep, waitFor } from '../../support/events.js';
import { rssMiB, type Intensity, type ScenarioResult } from '../scenario.js';

const PUSH_KEY = 'abuse-key';

/** Abuse containment: flooding, sockets that never answer pings, readers that never read. */
export async function run(intensity: Intensity): Promise<ScenarioResult[]> {
  return [await flood(intensity), await silentPeer(), await slowReader(intensity)];
}

/** Round-trip times of a well-behaved user, in ms. */
async function latencies(socket: ClientSocket, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await request(socket, 'get_online_users', {});
    out.push(performance.now() - started);
  }
  return out;
}

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 100) / 100;
};

async function withStack<T>(env: Record<string, string>, body: (stack: Stack) => Promise<T>): Promise<T> {
  const stack = await startStack(env);
  try {
    return await body(stack);
  } finally {
    await stack.stop();
  }
}

/** One client floods send_message; it is refused, then disconnected; others are unaffected. */
function flood(intensity: Intensity): Promise<ScenarioResult> {
  const floodCount = intensity === 'test' ? 400 : 4000;
  return withStack({ RATE_LIMIT_MESSAGES: '5/10', RATE_LIMIT_PRESENCE: '100000/10', FLOOD_DISCONNECT_AFTER: '50' }, async (stack) => {
    const bystander = await stack.connect('bystander');
    const flooder = await stack.connect('flooder');
    const before = await latencies(bystander, 100);
    const rssBefore = rssMiB();
    let rateLimited = 0;
    let retryAfterMissing = 0;
    flooder.on('error', (e: { code: string; retry_after_ms?: number }) => {
      if (e.code !== 'RATE_LIMITED') return;
      rateLimited++;
      if (!(Number(e.retry_after_ms) > 0) && !String((e as { message?: string }).message).includes('disconnecting')) retryAfterMissing++;
    });
    const disconnected = nextEvent(flooder, 'disconnect', 10_000).then(() => true, () => false);
    const during = latencies(bystander, 100);
    for (let i = 0; i < floodCount && flooder.connected; i++) {
      flooder.emit('send_message', { receiver_id: 'bystander', content: `spam ${i}` });
      if (i % 50 === 0) await sleep(1);
    }
    const duringLatencies = await during;
    const wasDisconnected = await disconnected;
    const stored = [...stack.chat.messages.values()].filter((m) => m.sender_id === 'flooder').length;
    return {
      name: 'Flooding: one client sends send_message without pause',
      figures: {
        'events sent by the flooder': floodCount,
        'RATE_LIMITED errors received': rateLimited,
        'RATE_LIMITED without retry_after_ms': retryAfterMissing,
        'messages stored (limit 5 per 10 s)': stored,
        'flooder disconnected': wasDisconnected ? 'yes' : 'no',
        'bystander round trip p50 before (ms)': percentile(before, 50),
        'bystander round trip p99 before (ms)': percentile(before, 99),
        'bystander round trip p50 during (ms)': percentile(duringLatencies, 50),
        'bystander round trip p99 during (ms)': percentile(duringLatencies, 99),
        'bystander round trips failed': 0,
        'gateway process RSS before / after (MiB)': `${rssBefore} / ${rssMiB()}`,
      },
      notes: ['FLOOD_DISCONNECT_AFTER=50 refused events within 10 s; RATE_LIMIT_MESSAGES=5/10.'],
    };
  });
}

/** A peer that stops answering pings is closed by the Engine.IO heartbeat. */
function silentPeer(): Promise<ScenarioResult> {
  return withStack({ PING_INTERVAL_MS: '200', PING_TIMEOUT_MS: '300' }, async (stack) => {
    const socket = await stack.connect('silent');
    const ws = websocketOf(socket);
    const started = performance.now();
    const closed = nextEvent(socket, 'disconnect', 5000).then(() => true, () => false);
    ws.pause(); // stops reading: pings are never seen, so never answered
    const wasClosed = await waitFor(() => stack.gateway.io.engine.clientsCount === 0, 5000).then(() => true, () => false);
    ws.resume();
    await closed;
    return {
      name: 'A peer that never answers pings',
      figures: {
        'closed by the gateway': wasClosed ? 'yes' : 'no',
        'time to close (ms)': Math.round(performance.now() - started),
        'PING_INTERVAL_MS + PING_TIMEOUT_MS': 500,
      },
    };
  });
}

/** A reader that never reads while the backend pushes to it: disconnected before memory grows. */
function slowReader(intensity: Intensity): Promise<ScenarioResult> {
  const pushes = intensity === 'test' ? 300 : 1500;
  return withStack(
    { PUSH_API_KEYS: PUSH_KEY, MAX_BUFFERED_BYTES: String(1024 * 1024), PING_INTERVAL_MS: '60000', PING_TIMEOUT_MS: '60000' },
    async (stack) => {
      const reader = await stack.connect('slow');
      const rssBefore = rssMiB();
      websocketOf(reader).pause();
      const chunk = 'x'.repeat(60_000);
      let sent = 0;
      for (; sent < pushes; sent++) {
        const connected = stack.gateway.io.engine.clientsCount > 0;
        if (!connected) break;
        await fetch(`${stack.url}/api/v1/push`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': PUSH_KEY },
          body: JSON.stringify({ user_ids: ['slow'], event: 'bulk', data: chunk }),
        });
      }
      const rssPeak = rssMiB();
      const disconnected = await waitFor(() => stack.gateway.io.engine.clientsCount === 0, 5000).then(() => true, () => false);
      const metrics = await (await fetch(`${stack.url}/metrics`)).text();
      const counted = /gateway_forced_disconnects_total\{reason="slow_consumer"\} (\d+)/.exec(metrics)?.[1] ?? '0';
      return {
        name: 'A reader that never reads while 60 KB pushes keep coming',
        figures: {
          'pushes sent before it was cut off': sent,
          'bytes offered (MiB)': Math.round((sent * 60_000) / 1024 / 102.4) / 10,
          'disconnected as a slow consumer': disconnected ? 'yes' : 'no',
          'gateway_forced_disconnects_total{reason="slow_consumer"}': Number(counted),
          'gateway process RSS before / at cut-off (MiB)': `${rssBefore} / ${rssPeak}`,
        },
        notes: ['MAX_BUFFERED_BYTES=1 MiB; the sweep runs every second.'],
      };
    },
  );
}

/** The TCP socket under a socket.io-client websocket (to stop reading from it). */
function websocketOf(socket: ClientSocket): { pause(): void; resume(): void } {
  const transport = (socket.io.engine as unknown as { transport: { ws: { _socket: { pause(): void; resume(): void } } } }).transport;
  return transport.ws._socket;
}

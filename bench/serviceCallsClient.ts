/**
 * The measured side of `npm run bench:calls`, in its own process: makes chat-service batch
 * calls, one every `spacingMs` (0: back to back), and reports the CPU time each cost it.
 * - `undici`: undici's `dispatch` with the answer collected and parsed, the floor of a call;
 * - `gateway`: the gateway's own `ServiceClient` (axios, axios-retry, cockatiel, its undici adapter).
 * Argument: a JSON `CallsSpec`. Starts on the parent's "start" (sent once this process is
 * pinned) and answers `{ cpuUsPerCall }`.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent } from 'undici';
import type * as ServiceClientModule from '../src/clients/ServiceClient.js';
import type * as MetricsModule from '../src/observability/metrics.js';
import type * as LoggerModule from '../src/observability/logger.js';

export interface CallsSpec {
  mode: 'undici' | 'gateway';
  /** The gateway's build, whose ServiceClient is measured. */
  distDir: string;
  port: number;
  spacingMs: number;
  calls: number;
  /** Messages per batch call; 0: one message per `POST /messages` (a chat-service without batch endpoints). */
  batch: number;
  contentBytes: number;
}

const WARMUP_CALLS = 300;

type Call = () => Promise<unknown>;

/** Where a call goes: the batch endpoint, or the single-message one when `batch` is 0. */
const pathOf = (spec: CallsSpec) => (spec.batch ? '/messages/batch' : '/messages');

async function gatewayCall(spec: CallsSpec, body: unknown): Promise<Call> {
  const load = <T>(path: string) => import(pathToFileURL(join(spec.distDir, path)).href) as Promise<T>;
  const { ServiceClient } = await load<typeof ServiceClientModule>('clients/ServiceClient.js');
  const { createMetrics } = await load<typeof MetricsModule>('observability/metrics.js');
  const { createLogger } = await load<typeof LoggerModule>('observability/logger.js');
  // The gateway's defaults (CHAT_SERVICE_TIMEOUT_MS, _RETRIES, BREAKER_*).
  const client = new ServiceClient({
    name: 'chat',
    baseUrl: `http://127.0.0.1:${spec.port}`,
    timeoutMs: 2000,
    retries: 2,
    breaker: { failureThreshold: 5, halfOpenAfterMs: 10_000 },
    serviceToken: 'bench-service-token',
    metrics: createMetrics(),
    logger: createLogger({ level: 'info', service: 'bench', instanceId: 'calls', silent: true }),
  });
  const [path, operation] = [pathOf(spec), spec.batch ? 'create_message_batch' : 'create_message'];
  let n = 0;
  return () => client.request({ method: 'POST', path, operation, body, requestId: `r${++n}`, userId: 's0', idempotencyKey: `key:${n}` });
}

function undiciCall(spec: CallsSpec, body: unknown): Call {
  const agent = new Agent({ connections: 256 });
  const origin = `http://127.0.0.1:${spec.port}`;
  return () =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      agent.dispatch(
        { origin, path: pathOf(spec), method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
        {
          onRequestStart() {},
          onResponseStart() {},
          onResponseData: (_c, chunk) => void chunks.push(chunk),
          onResponseEnd: () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))),
          onResponseError: (_c, e) => reject(e),
        },
      );
    });
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as CallsSpec;
  const content = 'x'.repeat(spec.contentBytes);
  const messages = Array.from({ length: spec.batch || 1 }, (_, i) => ({ sender_id: `s${i}`, receiver_id: `r${i}`, content, client_msg_id: `c${i}` }));
  const body = spec.batch ? { messages } : messages[0];
  const call = spec.mode === 'gateway' ? await gatewayCall(spec, body) : undiciCall(spec, body);
  await new Promise((resolve) => process.once('message', resolve));
  for (let i = 0; i < WARMUP_CALLS; i++) await call();
  const pause = () => new Promise((resolve) => setTimeout(resolve, spec.spacingMs));
  const before = process.cpuUsage();
  for (let i = 0; i < spec.calls; i++) {
    await call();
    if (spec.spacingMs > 0) await pause();
  }
  const used = process.cpuUsage(before);
  process.send?.({ cpuUsPerCall: (used.user + used.system) / spec.calls });
  process.disconnect();
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});

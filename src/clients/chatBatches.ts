import { createHash, randomUUID } from 'node:crypto';
import type { BatchEndpointSupport } from './BatchEndpointSupport.js';
import { errorForStatus, type ServiceClient } from './ServiceClient.js';

/** One queued call: what to send and the request id it belongs to. */
export interface Queued<T> {
  item: T;
  requestId: string;
}

type Single<T, R> = (item: T, requestId: string) => Promise<R>;

/**
 * Sends queued items through a batch endpoint (contract section 6) and answers each in order.
 * A batch is keyed, and so retried, only when every item carries its own idempotency key.
 * Whether the endpoint is used, and the fallback to single calls, is `endpoint`'s decision.
 */
export function batchSender<T, R>(opts: {
  service: ServiceClient;
  endpoint: BatchEndpointSupport;
  field: 'messages' | 'receipts';
  operation: string;
  keyOf: (item: T) => string | undefined;
  toBody: (item: T, key: string | undefined) => unknown;
  /** The item's result from its entry in `results`, or undefined when it is an error entry. */
  parse: (item: T, entry: unknown) => R | undefined;
  single: Single<T, R>;
}): (queued: Queued<T>[]) => Promise<Array<R | Error>> {
  type Answers = Array<R | Error>;
  const singles = (queued: Queued<T>[]): Promise<Answers> => Promise.all(queued.map((q) => opts.single(q.item, q.requestId).catch((e: Error) => e)));
  const batch = async (queued: Queued<T>[]): Promise<Answers> => {
    const keys = queued.map((q) => opts.keyOf(q.item));
    const answer = await opts.service.request<{ results?: unknown[] }>({
      method: 'POST',
      path: opts.endpoint.path,
      operation: opts.operation,
      body: { [opts.field]: queued.map((q, i) => opts.toBody(q.item, keys[i])) },
      requestId: randomUUID(),
      idempotencyKey: keys.every(Boolean) ? `batch:${createHash('sha256').update(keys.join('\n')).digest('base64url')}` : undefined,
    });
    return queued.map((q, i) => {
      const entry = answer?.results?.[i];
      const parsed = opts.parse(q.item, entry);
      if (parsed !== undefined) return parsed;
      const status = (entry as { error?: { status?: number } } | undefined)?.error?.status ?? 502;
      return errorForStatus(status, 'chat');
    });
  };
  return (queued) => opts.endpoint.run(() => batch(queued), () => singles(queued));
}

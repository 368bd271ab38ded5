import { createHash, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { batchAnswer, batchItemError } from './answers.js';
import type { BatchEndpointSupport } from './BatchEndpointSupport.js';
import type { ServiceClient } from './ServiceClient.js';

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
export function batchSender<T, R, E extends z.ZodType>(opts: {
  service: ServiceClient;
  endpoint: BatchEndpointSupport;
  field: 'messages' | 'receipts';
  operation: string;
  keyOf: (item: T) => string | undefined;
  toBody: (item: T, key: string | undefined) => unknown;
  /** What the gateway reads of a successful entry in `results`. */
  entry: E;
  /** The item's result from its successful entry. */
  toResult: (item: T, entry: z.output<E>) => R;
  /** The 401/403 statuses of an error entry that refuse the user (see `ServiceRequest.userRefusals`). */
  userRefusals: readonly number[];
  single: Single<T, R>;
}): (queued: Queued<T>[]) => Promise<Array<R | Error>> {
  type Answers = Array<R | Error>;
  const singles = (queued: Queued<T>[]): Promise<Answers> => Promise.all(queued.map((q) => opts.single(q.item, q.requestId).catch((e: Error) => e)));
  const batch = async (queued: Queued<T>[]): Promise<Answers> => {
    const keys = queued.map((q) => opts.keyOf(q.item));
    const answer = await opts.service.request({
      method: 'POST',
      path: opts.endpoint.path,
      operation: opts.operation,
      body: { [opts.field]: queued.map((q, i) => opts.toBody(q.item, keys[i])) },
      requestId: randomUUID(),
      idempotencyKey: keys.every(Boolean) ? `batch:${createHash('sha256').update(keys.join('\n')).digest('base64url')}` : undefined,
      answer: batchAnswer,
    });
    // A missing entry is malformed like any other: its item fails, the others stand.
    return queued.map((q, i) => itemOutcome(q.item, answer.results[i]));
  };
  /** An entry is the item's result, an error `{ status, code }`, or neither: a malformed answer. */
  const itemOutcome = (item: T, entry: unknown): R | Error => {
    const ok = opts.entry.safeParse(entry);
    if (ok.success) return opts.toResult(item, entry as z.output<E>);
    const failed = batchItemError.safeParse(entry);
    if (!failed.success) return opts.service.malformedAnswer(opts.operation, ok.error);
    const { status, code } = failed.data.error;
    return opts.service.errorForAnswer({ status, code, operation: opts.operation, userRefusals: opts.userRefusals });
  };
  return (queued) => opts.endpoint.run(() => batch(queued), () => singles(queued));
}

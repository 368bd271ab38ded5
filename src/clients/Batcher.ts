import { errors } from '../errors/GatewayError.js';

/** Batches sent at a time. */
export const MAX_BATCHES_IN_FLIGHT = 4;
/** Full batches per in-flight slot that may wait: the queue holds at most `max` × MAX_BATCHES_IN_FLIGHT × this. */
export const QUEUED_BATCHES_PER_SLOT = 2;

interface Entry<Item, Result> {
  item: Item;
  resolve: (r: Result) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit of single calls into batch calls; each caller gets its own item's result.
 * An item that arrives when the service is idle (nothing in flight, no batch sent in the last
 * `windowMs`) goes at once: no added latency for an isolated write. Otherwise items gather and
 * leave together `windowMs` after the last batch left, or as soon as `max` are queued, at most
 * MAX_BATCHES_IN_FLIGHT batches at a time. Under a steady stream that makes one call per window
 * rather than one per write (a call costs the gateway far more CPU than a write in it), each write
 * waiting at most `windowMs`; after a stall the backlog leaves as a few large batches instead of
 * many small ones. Beyond the queue's bound an item fails at once with the retryable
 * SERVICE_UNAVAILABLE instead of waiting behind a service that cannot keep up.
 */
export class Batcher<Item, Result> {
  private queue: Array<Entry<Item, Result>> = [];
  private timer?: NodeJS.Timeout;
  private inFlight = 0;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private readonly maxQueued: number;

  constructor(
    private readonly opts: {
      /** "chat": names the service in the overload error. */
      service: string;
      windowMs: number;
      max: number;
      /** Sends one batch; answers each item in order with its result or its error. */
      send: (items: Item[]) => Promise<Array<Result | Error>>;
    },
  ) {
    this.maxQueued = opts.max * MAX_BATCHES_IN_FLIGHT * QUEUED_BATCHES_PER_SLOT;
  }

  add(item: Item): Promise<Result> {
    if (this.queue.length >= this.maxQueued) return Promise.reject(errors.unavailable(`${this.opts.service} service overloaded`));
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      const sinceLastSent = Date.now() - this.lastSentAt;
      const idle = this.inFlight === 0 && sinceLastSent >= this.opts.windowMs;
      if (idle || this.queue.length >= this.opts.max) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), Math.max(0, this.opts.windowMs - sinceLastSent));
    });
  }

  /** Sends what is queued, `max` items a batch, as far as the in-flight bound allows; the rest leaves when a batch returns. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length > 0 && this.inFlight < MAX_BATCHES_IN_FLIGHT) this.lastSentAt = Date.now();
    while (this.queue.length > 0 && this.inFlight < MAX_BATCHES_IN_FLIGHT) this.sendBatch(this.queue.splice(0, this.opts.max));
  }

  private sendBatch(batch: Array<Entry<Item, Result>>): void {
    this.inFlight++;
    this.opts
      .send(batch.map((b) => b.item))
      .then(
        (results) =>
          batch.forEach((b, i) => {
            const r = results[i];
            if (r instanceof Error) b.reject(r);
            else if (r === undefined) b.reject(new Error('batch answer is missing an item'));
            else b.resolve(r);
          }),
        (e: unknown) => batch.forEach((b) => b.reject(e)),
      )
      .finally(() => {
        this.inFlight--;
        // Items queued with no timer pending were held back by the in-flight bound: they go now.
        if (this.queue.length > 0 && this.timer === undefined) this.flush();
      });
  }
}

/**
 * Coalesces single calls into batch calls: items wait at most `windowMs` (or until `max` are
 * queued), then one `send` carries them all; each caller gets its own item's result. One
 * request per message caps throughput at the HTTP client's rate; batching is the way through.
 *
 * Waiting only pays when more items are likely to arrive meanwhile: an item that finds the
 * queue empty and came more than a window after the previous one (a quiet gateway, a large
 * room's occasional message) is sent at once instead of waiting for company that is not coming.
 *
 * At most MAX_IN_FLIGHT batches are sent at a time; items arriving beyond that wait for one
 * to come back and go out together. After a stall the backlog then leaves as a few large
 * batches instead of many small concurrent ones, each of which would cost a call (and a new
 * pooled connection), exactly when the gateway has least time to spare.
 */
const MAX_IN_FLIGHT = 4;

export class Batcher<Item, Result> {
  private queue: Array<{ item: Item; resolve: (r: Result) => void; reject: (e: unknown) => void }> = [];
  private timer?: NodeJS.Timeout;
  private lastArrival = -Infinity;
  private inFlight = 0;
  /** Items are queued that the in-flight bound held back: send them when a batch returns. */
  private heldBack = false;

  constructor(
    private readonly opts: {
      windowMs: number;
      max: number;
      /** Sends one batch; answers each item in order with its result or its error. */
      send: (items: Item[]) => Promise<Array<Result | Error>>;
    },
  ) {}

  add(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      const now = performance.now();
      const quiet = now - this.lastArrival > this.opts.windowMs;
      this.lastArrival = now;
      if (this.queue.length >= this.opts.max || (quiet && this.queue.length === 1)) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.windowMs);
    });
  }

  /** Sends what is queued, `max` items a batch, as far as the in-flight bound allows. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 && this.inFlight < MAX_IN_FLIGHT) this.sendBatch(this.queue.splice(0, this.opts.max));
    this.heldBack = this.queue.length > 0;
  }

  private sendBatch(batch: Batcher<Item, Result>['queue']): void {
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
        // What the bound held back has waited long enough already; the rest keeps its window.
        if (this.heldBack) this.flush();
      });
  }
}

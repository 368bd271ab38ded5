/** Work in progress that a graceful shutdown waits for, up to a bound. */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  /** Remembers a promise until it settles; never rejects. */
  track(work: Promise<unknown>): void {
    // One derived promise per piece of work: this runs for every client event.
    const forget = () => void this.pending.delete(settled);
    const settled: Promise<unknown> = work.then(forget, forget);
    this.pending.add(settled);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Resolves when everything tracked has settled, or after `timeoutMs`; true when all settled. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      while (this.pending.size > 0) {
        const done = await Promise.race([Promise.all([...this.pending]).then(() => true), deadline]);
        if (!done) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** What decides whether a handshake is served now or told to come back later. */
export interface AdmissionSettings {
  /** Handshakes in progress at once beyond which new ones are refused; 0 = no limit. */
  maxPending: number;
  /** Event-loop delay (ms) beyond which new handshakes are refused; 0 = not watched. */
  maxLoopDelayMs: number;
  /** `retry_after_ms` at light overload, before jitter; it grows with the overload. */
  retryAfterMs: number;
}

/**
 * The retry delay grows with the overload up to this many times `retryAfterMs`: with the default
 * and the jitter, a refused client is told at most 12 s, so a reconnect storm settles within
 * seconds rather than leaving clients waiting out long delays on an instance that is idle again.
 */
const MAX_SPREAD = 8;

/**
 * Admission control of handshakes: refuses new ones (SERVER_BUSY) while the instance cannot
 * serve them promptly, so that the handshakes it accepts finish quickly instead of everyone's
 * slowing down together. Two signals, each cheap to read:
 * - handshakes in progress (admitted, not finished): they pile up when the handshake waits on
 *   I/O, the auth-service in remote mode or Redis in cluster mode;
 * - the event-loop delay: it grows when the process has more work than CPU.
 *
 * A refused client is told when to come back: `retryAfterMs` times one plus the ratio of
 * refused to admitted handshakes over the last second (about how many seconds of capacity the
 * refused ones need), jittered between half and one and a half of that, so that they do not
 * come back together.
 */
export class HandshakeAdmission {
  private pending = 0;
  private readonly admitted = new LastSecond();
  private readonly refused = new LastSecond();

  constructor(
    private readonly settings: AdmissionSettings,
    /** The current event-loop delay in ms. */
    private readonly loopDelayMs: () => number,
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {}

  /** Handshakes admitted and not finished. */
  get inProgress(): number {
    return this.pending;
  }

  /** True when the handshake may go on (call `finished()` when it ends, whatever the outcome). */
  admit(): boolean {
    const { maxPending, maxLoopDelayMs } = this.settings;
    const busy = (maxPending > 0 && this.pending >= maxPending) || (maxLoopDelayMs > 0 && this.loopDelayMs() > maxLoopDelayMs);
    const now = this.now();
    if (busy) {
      this.refused.add(now);
      return false;
    }
    this.admitted.add(now);
    this.pending++;
    return true;
  }

  finished(): void {
    this.pending--;
  }

  /** How long a handshake refused now should wait before it tries again (jittered). */
  retryAfterMs(): number {
    const now = this.now();
    const overload = 1 + this.refused.count(now) / Math.max(1, this.admitted.count(now));
    const spread = this.settings.retryAfterMs * Math.min(overload, MAX_SPREAD);
    return Math.round(spread * (0.5 + this.random()));
  }
}

/**
 * Events of about the last second, without a timer: a one-second bucket being filled plus the
 * previous one, weighted by the share of it that still lies within the last second.
 */
class LastSecond {
  private bucketStart = 0;
  private current = 0;
  private previous = 0;

  add(now: number): void {
    this.roll(now);
    this.current++;
  }

  count(now: number): number {
    this.roll(now);
    return this.current + this.previous * (1 - (now - this.bucketStart) / 1000);
  }

  private roll(now: number): void {
    const elapsed = now - this.bucketStart;
    if (elapsed < 1000) return;
    this.previous = elapsed < 2000 ? this.current : 0;
    this.current = 0;
    this.bucketStart = now - (elapsed % 1000);
  }
}

import type { Logger } from './logger.js';

/** A recurring fault is logged at most this often per kind. */
export const FAULT_LOG_INTERVAL_MS = 10_000;

/**
 * Logs a fault that recurs on every call (a dead service, a refused SERVICE_TOKEN) at most once
 * per interval per kind: the first at once, each later line with `count`, the faults it stands
 * for since the previous line (itself included). Between two lines a fault costs a counter and a
 * clock read: no timer, and one entry per kind, the kinds being a small closed set of the caller's.
 * The clock is `Date.now()`, so sinon's fake timers can move it.
 */
export class FaultLog {
  private readonly kinds = new Map<string, { loggedAt: number; unlogged: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = FAULT_LOG_INTERVAL_MS,
  ) {}

  /** Logs `message` with `fields`, unless a fault of `kind` was logged within the interval. */
  report(kind: string, level: 'warn' | 'error', message: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    const last = this.kinds.get(kind);
    if (last && now - last.loggedAt < this.intervalMs) {
      last.unlogged++;
      return;
    }
    this.kinds.set(kind, { loggedAt: now, unlogged: 0 });
    this.logger.log(level, message, { ...fields, count: (last?.unlogged ?? 0) + 1 });
  }
}

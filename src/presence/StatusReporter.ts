import { randomUUID } from 'node:crypto';
import type { AuthClient, StatusUpdate, UserStatus } from '../clients/AuthClient.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** How long, when no call is in flight, the first update waits for company (and for its own reversal). */
export const STATUS_COALESCE_WINDOW_MS = 100;
/** Calls to the auth-service at a time. */
export const STATUS_CALLS_IN_FLIGHT = 8;
/** Updates one `PUT /users/status` carries at most. */
export const STATUS_UPDATES_PER_CALL = 500;
/** Pending updates (one per user) beyond which the oldest are dropped. */
export const MAX_PENDING_STATUS_UPDATES = 10_000;

/** The bounds of a StatusReporter; each defaults to the constant of its name. */
export interface StatusReporterLimits {
  /** @default STATUS_COALESCE_WINDOW_MS */ windowMs: number;
  /** @default STATUS_CALLS_IN_FLIGHT */ callsInFlight: number;
  /** @default STATUS_UPDATES_PER_CALL */ updatesPerCall: number;
  /** @default MAX_PENDING_STATUS_UPDATES */ maxPending: number;
}

/** What became of a reported update, as counted in `gateway_status_updates_total`. */
export type StatusOutcome = 'sent' | 'coalesced' | 'dropped' | 'failed';

interface Pending {
  update: StatusUpdate;
  /**
   * The user's status at the auth-service before the first update this entry stands for, when
   * known: an update back to it cancels the entry, and nothing is sent.
   */
  before?: UserStatus;
}

/**
 * Presence transitions alternate per user (the presence store decides them atomically), so an
 * online transition follows an offline one and the other way round. (`last_seen` of an offline
 * cancelled this way is not recorded: only the latest status matters.)
 */
function statusBefore(status: UserStatus): UserStatus | undefined {
  if (status === 'online') return 'offline';
  if (status === 'offline') return 'online';
  return undefined;
}

/**
 * Best-effort status updates for the auth-service (contract section 6) that cannot pile up:
 * one pending update per user (a later one replaces it; one back to the status the auth-service
 * already has cancels it), sent in few calls (`PUT /users/status` while the auth-service has it),
 * a bounded number in flight, and at most `maxPending` waiting (the oldest are dropped). A user's
 * next update waits until their previous call returned, so they arrive in order. Updates a
 * missing batch endpoint refused go back into the queue, then one per call.
 */
export class StatusReporter {
  private pending = new Map<string, Pending>();
  private readonly usersInFlight = new Set<string>();
  private readonly limits: StatusReporterLimits;
  private calls = 0;
  private timer?: NodeJS.Timeout;
  private whenIdle: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly deps: { auth: AuthClient; metrics: Metrics; logger: Logger; limits?: Partial<StatusReporterLimits> }) {
    this.limits = {
      windowMs: STATUS_COALESCE_WINDOW_MS,
      callsInFlight: STATUS_CALLS_IN_FLIGHT,
      updatesPerCall: STATUS_UPDATES_PER_CALL,
      maxPending: MAX_PENDING_STATUS_UPDATES,
      ...deps.limits,
    };
  }

  /** Queues a user's new status; never waits, never throws. */
  report(update: StatusUpdate): void {
    if (this.stopped) return this.count('dropped');
    const older = this.pending.get(update.user_id);
    const entry = older ? this.combine(older, update) : { update, before: statusBefore(update.status) };
    // Set on a key already present keeps its place: a user's updates wait from the first of them.
    if (entry) this.pending.set(update.user_id, entry);
    else this.pending.delete(update.user_id);
    this.shed();
    if (this.pending.size > 0) this.timer ??= setTimeout(() => this.flush(), this.limits.windowMs);
  }

  /** Sends what is pending at once, waits up to `timeoutMs` for the calls; what is left, and any later update, is dropped. */
  async stop(timeoutMs: number): Promise<void> {
    this.flush();
    if (this.calls > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.whenIdle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.stopped = true;
    clearTimeout(this.timer);
    this.count('dropped', this.pending.size);
    this.pending.clear();
  }

  /** `older` followed by `update`: the entry that stands for both, or undefined when they cancel out. */
  private combine(older: Pending, update: StatusUpdate): Pending | undefined {
    if (update.status === older.before) {
      this.count('coalesced', 2);
      return undefined;
    }
    this.count('coalesced');
    return { update, before: older.before };
  }

  /** Beyond the bound, the oldest pending updates go. */
  private shed(): void {
    for (const userId of this.pending.keys()) {
      if (this.pending.size <= this.limits.maxPending) return;
      this.pending.delete(userId);
      this.count('dropped');
    }
  }

  /** Puts unsent updates back ahead of the others; a user's newer pending update still comes after. */
  private requeue(updates: StatusUpdate[]): void {
    const front = new Map<string, Pending>();
    for (const update of updates) {
      const own: Pending = { update, before: statusBefore(update.status) };
      const newer = this.pending.get(update.user_id);
      this.pending.delete(update.user_id);
      const entry = newer ? this.combine(own, newer.update) : own;
      if (entry) front.set(update.user_id, entry);
    }
    this.pending = new Map([...front, ...this.pending]);
    this.shed();
  }

  /** Starts calls while slots are free; what cannot go now goes when a call returns. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.calls < this.limits.callsInFlight) {
      const updates = this.take(this.deps.auth.statusBatchInUse ? this.limits.updatesPerCall : 1);
      if (updates.length === 0) return;
      void this.send(updates);
    }
  }

  /** Up to `n` pending updates, oldest first, of users with no update in flight. */
  private take(n: number): StatusUpdate[] {
    const taken: StatusUpdate[] = [];
    for (const [userId, { update }] of this.pending) {
      if (taken.length === n) break;
      if (!this.usersInFlight.has(userId)) taken.push(update);
    }
    for (const { user_id } of taken) {
      this.pending.delete(user_id);
      this.usersInFlight.add(user_id);
    }
    return taken;
  }

  private async send(updates: StatusUpdate[]): Promise<void> {
    this.calls++;
    try {
      // Not sent: the batch endpoint is missing; they go again one at a time, coalescing meanwhile.
      if (await this.deps.auth.setStatuses(updates, randomUUID())) this.count('sent', updates.length);
      else this.requeue(updates);
    } catch (e) {
      this.failed(updates.length, e as Error);
    } finally {
      this.calls--;
      for (const { user_id } of updates) this.usersInFlight.delete(user_id);
      // What gathered meanwhile has waited for this call: it goes now.
      this.flush();
      if (this.calls === 0) this.whenIdle.splice(0).forEach((resolve) => resolve());
    }
  }

  /** Best-effort: a failed update is counted and logged, never retried beyond the client's policy. */
  private failed(count: number, error: Error): void {
    this.count('failed', count);
    this.deps.logger.warn('status updates failed', { count, error: error.message });
  }

  private count(outcome: StatusOutcome, n = 1): void {
    if (n > 0) this.deps.metrics.statusUpdates.inc({ outcome }, n);
  }
}

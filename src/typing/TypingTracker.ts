import type { ParsedPayloadOf } from '../contract/index.js';

/** Whom a typing indicator is for: one user, or one room (`typing`'s validated payload). */
export type TypingTarget = ParsedPayloadOf<'typing'>;

interface ActiveTyping {
  userId: string;
  socketId: string;
  target: TypingTarget;
  lastRelayAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Typing state of this instance: throttles repeated `typing` per user and target, and ends an
 * indicator by itself `timeoutMs` after the last `typing` (or when its socket goes).
 */
export class TypingTracker {
  private readonly active = new Map<string, ActiveTyping>();
  private readonly bySocket = new Map<string, Set<string>>();

  constructor(
    private readonly opts: { timeoutMs: number; throttleMs: number },
    /** Called when an indicator ends without a `stop_typing` (timeout or disconnect). */
    private readonly onAutoStop: (userId: string, target: TypingTarget) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a `typing`; true when it should be relayed (not within the throttle window). */
  start(userId: string, socketId: string, target: TypingTarget): boolean {
    const key = keyOf(userId, target);
    const entry = this.active.get(key);
    if (entry) {
      entry.timer.refresh();
      this.moveTo(entry, key, socketId);
      if (this.now() - entry.lastRelayAt < this.opts.throttleMs) return false;
      entry.lastRelayAt = this.now();
      return true;
    }
    const timer = setTimeout(() => this.end(key, true), this.opts.timeoutMs);
    timer.unref();
    const added: ActiveTyping = { userId, socketId, target, lastRelayAt: this.now(), timer };
    this.active.set(key, added);
    this.socketKeys(socketId).add(key);
    return true;
  }

  /** Records a `stop_typing`; true when an indicator was showing. */
  stop(userId: string, target: TypingTarget): boolean {
    return this.end(keyOf(userId, target), false);
  }

  /** Ends every indicator a socket started (it disconnected or left). */
  stopSocket(socketId: string): void {
    for (const key of [...(this.bySocket.get(socketId) ?? [])]) this.end(key, true);
  }

  /** Drops all timers without emitting (shutdown). */
  clear(): void {
    for (const entry of this.active.values()) clearTimeout(entry.timer);
    this.active.clear();
    this.bySocket.clear();
  }

  private end(key: string, notify: boolean): boolean {
    const entry = this.active.get(key);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.active.delete(key);
    this.forget(entry.socketId, key);
    if (notify) this.onAutoStop(entry.userId, entry.target);
    return true;
  }

  private moveTo(entry: ActiveTyping, key: string, socketId: string): void {
    if (entry.socketId === socketId) return;
    this.forget(entry.socketId, key);
    entry.socketId = socketId;
    this.socketKeys(socketId).add(key);
  }

  private socketKeys(socketId: string): Set<string> {
    let keys = this.bySocket.get(socketId);
    if (!keys) this.bySocket.set(socketId, (keys = new Set()));
    return keys;
  }

  private forget(socketId: string, key: string): void {
    const keys = this.bySocket.get(socketId);
    keys?.delete(key);
    if (keys?.size === 0) this.bySocket.delete(socketId);
  }
}

function keyOf(userId: string, target: TypingTarget): string {
  return 'room_id' in target ? `${userId}\u0000r\u0000${target.room_id}` : `${userId}\u0000u\u0000${target.receiver_id}`;
}

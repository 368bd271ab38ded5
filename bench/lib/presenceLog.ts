/**
 * The `user_connected` / `user_disconnected` events each subscriber saw for each user it
 * watches, in order: what a contact list would have shown through a restart.
 */
import type { PresenceResult } from './loadProtocol.js';
import { stringField } from './wire.js';

const EXAMPLES_PER_PATTERN = 3;

export class PresenceLog {
  /** `subscriber>watched` → the events seen, `D` and `C`. */
  private readonly seen = new Map<string, string>();
  private unwatched = 0;
  /** performance.now() of the last event recorded. */
  lastEventAt = 0;

  watch(subscriber: string, users: string[]): void {
    for (const user of users) this.seen.set(`${subscriber}>${user}`, '');
  }

  /** Records a `user_connected` or `user_disconnected` frame that `subscriber` received. */
  record(subscriber: string, event: 'user_connected' | 'user_disconnected', frame: string): void {
    const key = `${subscriber}>${stringField(frame, 'user_id')}`;
    const events = this.seen.get(key);
    this.lastEventAt = performance.now();
    if (events === undefined) this.unwatched++;
    else this.seen.set(key, events + (event === 'user_connected' ? 'C' : 'D'));
  }

  summary(): PresenceResult {
    const patterns: Record<string, number> = {};
    const examples: Record<string, string[]> = {};
    for (const [key, events] of this.seen) {
      patterns[events] = (patterns[events] ?? 0) + 1;
      const some = (examples[events] ??= []);
      if (some.length < EXAMPLES_PER_PATTERN) some.push(key);
    }
    return { pairs: this.seen.size, patterns, examples, unwatched: this.unwatched };
  }
}

import type { ChatClient } from '../clients/ChatClient.js';
import { errors } from '../errors/GatewayError.js';

/** Entries kept at most; the oldest goes first. */
const MAX_ENTRIES = 100_000;

/**
 * How long a "not a member" answer is kept (at most `ttlMs`). A member added at the chat-service
 * is not announced to the gateway, so a long-kept refusal would lock them out for the whole TTL;
 * a second still spares the chat-service a question per event from a client that keeps trying
 * (the event rate limits bound that client too).
 */
export const NEGATIVE_TTL_MS = 1000;

/**
 * Room membership as the chat-service says it: members cached for `ttlMs` (0 = always ask),
 * non-members for at most NEGATIVE_TTL_MS. Concurrent questions about the same pair share one
 * request. A removal (`forget`) drops the answers, and an answer already on its way is not kept.
 */
export class MembershipCache {
  private readonly answers = new Map<string, { member: boolean; until: number }>();
  private readonly pending = new Map<string, Promise<boolean>>();

  constructor(
    private readonly chat: ChatClient,
    private readonly ttlMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Resolves when `userId` is a member of `roomId`; rejects with FORBIDDEN otherwise. */
  async require(roomId: string, userId: string, requestId: string): Promise<void> {
    if (!(await this.isMember(roomId, userId, requestId))) throw errors.forbidden('not a member of this room');
  }

  async isMember(roomId: string, userId: string, requestId: string): Promise<boolean> {
    const key = keyOf(roomId, userId);
    const hit = this.answers.get(key);
    if (hit && hit.until > this.now()) return hit.member;
    return this.pending.get(key) ?? this.ask(key, roomId, userId, requestId);
  }

  /** Forgets what is known about these users in the room: their next event asks the chat-service. */
  forget(roomId: string, userIds: readonly string[]): void {
    for (const userId of userIds) {
      const key = keyOf(roomId, userId);
      this.answers.delete(key);
      this.pending.delete(key);
    }
  }

  private ask(key: string, roomId: string, userId: string, requestId: string): Promise<boolean> {
    // Still pending unless `forget` ran meanwhile, in which case the answer may predate the removal.
    const current = () => this.pending.get(key) === asking && this.pending.delete(key);
    const asking: Promise<boolean> = this.chat.isMember(roomId, userId, requestId).then(
      (member) => {
        if (current()) this.remember(key, member);
        return member;
      },
      (e: unknown) => {
        current();
        throw e;
      },
    );
    this.pending.set(key, asking);
    return asking;
  }

  private remember(key: string, member: boolean): void {
    const ttlMs = member ? this.ttlMs : Math.min(this.ttlMs, NEGATIVE_TTL_MS);
    if (ttlMs <= 0) return;
    this.answers.delete(key);
    if (this.answers.size >= MAX_ENTRIES) this.answers.delete(this.answers.keys().next().value!);
    this.answers.set(key, { member, until: this.now() + ttlMs });
  }
}

function keyOf(roomId: string, userId: string): string {
  return `${roomId}\u0000${userId}`;
}

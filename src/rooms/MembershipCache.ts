import type { ChatClient } from '../clients/ChatClient.js';
import { errors } from '../errors/GatewayError.js';

/** Entries kept at most; the oldest goes first. */
const MAX_ENTRIES = 100_000;

/**
 * Room membership as the chat-service says it, cached for `ttlMs` (0 = always ask).
 * Concurrent questions about the same pair share one request.
 */
export class MembershipCache {
  private readonly answers = new Map<string, { member: boolean; until: number }>();
  private readonly pending = new Map<string, Promise<boolean>>();

  constructor(
    private readonly chat: ChatClient,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when `userId` is a member of `roomId`; rejects with FORBIDDEN otherwise. */
  async require(roomId: string, userId: string, requestId: string): Promise<void> {
    if (!(await this.isMember(roomId, userId, requestId))) throw errors.forbidden('not a member of this room');
  }

  async isMember(roomId: string, userId: string, requestId: string): Promise<boolean> {
    const key = `${roomId}\u0000${userId}`;
    const hit = this.answers.get(key);
    if (hit && hit.until > this.now()) return hit.member;
    let asking = this.pending.get(key);
    if (!asking) {
      asking = this.chat.isMember(roomId, userId, requestId).finally(() => this.pending.delete(key));
      this.pending.set(key, asking);
    }
    const member = await asking;
    this.remember(key, member);
    return member;
  }

  private remember(key: string, member: boolean): void {
    if (this.ttlMs <= 0) return;
    this.answers.delete(key);
    if (this.answers.size >= MAX_ENTRIES) this.answers.delete(this.answers.keys().next().value!);
    this.answers.set(key, { member, until: this.now() + this.ttlMs });
  }
}

import type { AddResult, PresenceStore, RemoveResult } from './PresenceStore.js';

/** Presence for a single instance: a Map from user to socket ids. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly sockets = new Map<string, Set<string>>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  async addSocket(userId: string, socketId: string, maxSockets = Infinity): Promise<AddResult> {
    let set = this.sockets.get(userId);
    if (set?.has(socketId)) return { admitted: true, firstForUser: false, socketCount: set.size };
    if ((set?.size ?? 0) >= maxSockets) return { admitted: false, firstForUser: false, socketCount: set?.size ?? 0 };
    const firstForUser = !set;
    if (!set) this.sockets.set(userId, (set = new Set()));
    set.add(socketId);
    return { admitted: true, firstForUser, socketCount: set.size };
  }

  async removeSocket(userId: string, socketId: string): Promise<RemoveResult> {
    const set = this.sockets.get(userId);
    const lastSeen = this.now().toISOString();
    if (!set?.delete(socketId)) return { lastForUser: false, lastSeen };
    if (set.size > 0) return { lastForUser: false, lastSeen };
    this.sockets.delete(userId);
    return { lastForUser: true, lastSeen };
  }

  async onlineAmong(userIds: readonly string[]): Promise<string[]> {
    return userIds.filter((id) => this.sockets.has(id));
  }

  async listOnline(limit: number): Promise<string[]> {
    const out: string[] = [];
    for (const id of this.sockets.keys()) {
      if (out.length >= limit) break;
      out.push(id);
    }
    return out;
  }

  async countOnline(): Promise<number> {
    return this.sockets.size;
  }

  async socketCount(userId: string): Promise<number> {
    return this.sockets.get(userId)?.size ?? 0;
  }

  async close(): Promise<void> {
    this.sockets.clear();
  }
}

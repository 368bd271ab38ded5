import type { Redis } from 'ioredis';
import { errors } from '../errors/GatewayError.js';
import { KEY_PREFIX } from '../redis/RedisConnections.js';
import type { ClusterPresenceStore, PresenceTransitions } from './ClusterPresenceStore.js';
import type { AddResult, RemoveResult } from './PresenceStore.js';
import { ADD_SOCKET, HEARTBEAT, REAP_STALE, REMOVE_SOCKET, RESYNC } from './redisScripts.js';

const KEYS = {
  users: `${KEY_PREFIX}:presence:users`,
  lastSeen: `${KEY_PREFIX}:presence:last_seen`,
  heartbeats: `${KEY_PREFIX}:presence:heartbeats`,
  instancePrefix: `${KEY_PREFIX}:presence:instance:`,
};

type Script = (...args: (string | number)[]) => Promise<unknown>;

/** Presence in Redis hashes, shared by every instance (cluster mode). */
export class RedisPresenceStore implements ClusterPresenceStore {
  private readonly instanceKey: string;
  private readonly scripts: Record<'add' | 'remove' | 'heartbeat' | 'reap' | 'resync', Script>;

  /** `redis` belongs to the caller, who closes it. */
  constructor(
    private readonly redis: Redis,
    private readonly instanceId: string,
  ) {
    this.instanceKey = KEYS.instancePrefix + instanceId;
    // defineCommand sends EVALSHA (the script body only once per connection).
    const script = (name: string, lua: string): Script => {
      const command = `chatgwPresence${name}`;
      if (!(command in redis)) redis.defineCommand(command, { lua });
      return (...args) => (redis as unknown as Record<string, Script>)[command](...args);
    };
    this.scripts = {
      add: script('Add', ADD_SOCKET),
      remove: script('Remove', REMOVE_SOCKET),
      heartbeat: script('Heartbeat', HEARTBEAT),
      reap: script('Reap', REAP_STALE),
      resync: script('Resync', RESYNC),
    };
  }

  addSocket(userId: string, socketId: string, maxSockets = Infinity): Promise<AddResult> {
    return guard(async () => {
      const max = Number.isFinite(maxSockets) ? maxSockets : -1;
      const [admitted, first, count] = (await this.scripts.add(3, KEYS.users, this.instanceKey, KEYS.lastSeen, socketId, userId, max)) as number[];
      return { admitted: admitted === 1, firstForUser: first === 1, socketCount: count };
    });
  }

  removeSocket(userId: string, socketId: string): Promise<RemoveResult> {
    return guard(async () => {
      const lastSeen = new Date().toISOString();
      const last = await this.scripts.remove(3, KEYS.users, this.instanceKey, KEYS.lastSeen, socketId, userId, lastSeen);
      return { lastForUser: last === 1, lastSeen };
    });
  }

  onlineAmong(userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return guard(async () => {
      const counts = await this.redis.hmget(KEYS.users, ...userIds);
      return userIds.filter((_, i) => counts[i] !== null);
    });
  }

  listOnline(limit: number): Promise<string[]> {
    return guard(async () => {
      const found = new Set<string>();
      let cursor = '0';
      do {
        const [next, flat] = await this.redis.hscan(KEYS.users, cursor, 'COUNT', Math.min(limit, 1000));
        for (let i = 0; i < flat.length && found.size < limit; i += 2) found.add(flat[i]);
        cursor = next;
      } while (cursor !== '0' && found.size < limit);
      return [...found];
    });
  }

  countOnline(): Promise<number> {
    return guard(() => this.redis.hlen(KEYS.users));
  }

  socketCount(userId: string): Promise<number> {
    return guard(async () => Number((await this.redis.hget(KEYS.users, userId)) ?? 0));
  }

  heartbeat(): Promise<boolean> {
    return guard(async () => (await this.scripts.heartbeat(1, KEYS.heartbeats, this.instanceId)) === 1);
  }

  reapStale(staleMs: number): Promise<PresenceTransitions['offline']> {
    return guard(async () => {
      const lastSeen = new Date().toISOString();
      const users = (await this.scripts.reap(3, KEYS.users, KEYS.heartbeats, KEYS.lastSeen, staleMs, KEYS.instancePrefix, lastSeen, this.instanceId)) as string[];
      return users.map((userId) => ({ userId, lastSeen }));
    });
  }

  resync(sockets: Array<{ socketId: string; userId: string }>, keep: readonly string[] = []): Promise<PresenceTransitions> {
    return guard(async () => {
      const lastSeen = new Date().toISOString();
      const pairs = sockets.flatMap((s) => [s.socketId, s.userId]);
      const args = [lastSeen, sockets.length, ...pairs, ...keep];
      const [online, offline] = (await this.scripts.resync(3, KEYS.users, this.instanceKey, KEYS.lastSeen, ...args)) as string[][];
      return { online, offline: offline.map((userId) => ({ userId, lastSeen })) };
    });
  }

  /**
   * Forgets this instance: heartbeat and socket list. Sockets still listed are released first
   * (users whose last socket it was go offline), so no count outlives the instance.
   */
  async close(): Promise<void> {
    await this.resync([]).catch(() => undefined);
    await guard(() => this.redis.multi().hdel(KEYS.heartbeats, this.instanceId).del(this.instanceKey).exec()).catch(() => undefined);
  }
}

/** Redis failures become SERVICE_UNAVAILABLE for the client. */
async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch {
    throw errors.unavailable('presence store unavailable');
  }
}

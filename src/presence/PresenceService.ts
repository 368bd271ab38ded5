import type { SinkPublisher } from '../clients/SinkPublisher.js';
import { rooms } from '../contract/index.js';
import type { GatewayServer } from '../io/GatewayServer.js';
import type { PresenceTransitions } from './ClusterPresenceStore.js';
import type { PresenceStore } from './PresenceStore.js';
import type { StatusReporter } from './StatusReporter.js';

export interface PresenceServiceDeps {
  io: GatewayServer;
  store: PresenceStore;
  /** `scoped`: subscribers and rooms of the user; `global`: everyone. */
  broadcast: 'scoped' | 'global';
  /** Reports transitions to the auth-service, when there is one. */
  status?: StatusReporter;
  sinks: SinkPublisher;
}

/**
 * The rules of presence: a user is online while any socket is; the first socket anywhere
 * announces `user_connected`, the last one `user_disconnected`, each told to its audience,
 * to the auth-service (best-effort) and to the sinks.
 */
export class PresenceService {
  /** This instance's sockets that the store has acknowledged, by user. */
  private readonly recorded = new SocketsByUser();
  /** Sockets whose add is on its way to the store. */
  private readonly admitting = new Set<string>();

  constructor(private readonly deps: PresenceServiceDeps) {}

  /**
   * Registers the socket of a handshake under way unless the user already has `maxSockets`
   * (one step in the store); announces the user when it is their first anywhere. False when
   * refused: nothing changed. The caller removes it with `socketDisconnected`, also when the
   * handshake does not complete after all.
   */
  async admitSocket(userId: string, socketId: string, maxSockets?: number): Promise<boolean> {
    this.admitting.add(socketId);
    try {
      const { admitted, firstForUser } = await this.deps.store.addSocket(userId, socketId, maxSockets);
      if (!admitted) return false;
      this.recorded.add(userId, socketId);
      if (firstForUser) this.wentOnline(userId);
      return true;
    } finally {
      this.admitting.delete(socketId);
    }
  }

  /**
   * Sockets whose entries a repair must keep though they are not live (yet): those being
   * admitted, whose add may reach the store just before the repair, and those admitted but not
   * connected yet. Live sockets may be among them.
   */
  socketsToKeep(): string[] {
    return [...this.admitting, ...this.recorded.socketIds()];
  }

  /** Removes a socket; announces the user gone when it was their last anywhere. */
  async socketDisconnected(userId: string, socketId: string, chatRooms: string[]): Promise<void> {
    this.recorded.delete(userId, socketId);
    const { lastForUser, lastSeen } = await this.deps.store.removeSocket(userId, socketId);
    if (lastForUser) this.wentOffline(userId, lastSeen, chatRooms);
  }

  /** Announces users that a crash cleanup found gone (their rooms are unknown: subscribers only). */
  announceOffline(offline: PresenceTransitions['offline']): void {
    offline.forEach(({ userId, lastSeen }) => this.wentOffline(userId, lastSeen, []));
  }

  /**
   * After the store was rewritten from this instance's live sockets: a user the store had lost
   * but whose socket we had recorded never went offline for anyone, so only users first
   * recorded now are announced online.
   */
  repaired(live: Array<{ socketId: string; userId: string }>, changes: PresenceTransitions): void {
    const online = changes.online.filter((userId) => !this.recorded.hasUser(userId));
    for (const { userId, socketId } of live) this.recorded.add(userId, socketId);
    online.forEach((userId) => this.wentOnline(userId));
    this.announceOffline(changes.offline);
  }

  private wentOnline(userId: string): void {
    const at = new Date().toISOString();
    this.audience(userId, []).emit('user_connected', { user_id: userId, at });
    this.reportStatus(userId, 'online');
    this.deps.sinks.publish('user_online', { user_id: userId });
  }

  private wentOffline(userId: string, lastSeen: string, chatRooms: string[]): void {
    this.audience(userId, chatRooms).emit('user_disconnected', { user_id: userId, last_seen: lastSeen });
    this.reportStatus(userId, 'offline', lastSeen);
    this.deps.sinks.publish('user_offline', { user_id: userId, last_seen: lastSeen });
  }

  /** Who hears of a user's transitions; never the user's own sockets. */
  private audience(userId: string, chatRooms: string[]) {
    const { io } = this.deps;
    if (this.deps.broadcast === 'global') return io.except(rooms.user(userId));
    return io.to([rooms.presence(userId), ...chatRooms]).except(rooms.user(userId));
  }

  /** Best-effort: the reporter coalesces and bounds the calls; a failure never blocks a connection. */
  private reportStatus(userId: string, status: 'online' | 'offline', lastSeen?: string): void {
    this.deps.status?.report(lastSeen ? { user_id: userId, status, last_seen: lastSeen } : { user_id: userId, status });
  }
}

/** Socket ids grouped by user. */
class SocketsByUser {
  private readonly byUser = new Map<string, Set<string>>();

  add(userId: string, socketId: string): void {
    let sockets = this.byUser.get(userId);
    if (!sockets) this.byUser.set(userId, (sockets = new Set()));
    sockets.add(socketId);
  }

  delete(userId: string, socketId: string): void {
    const sockets = this.byUser.get(userId);
    if (sockets?.delete(socketId) && sockets.size === 0) this.byUser.delete(userId);
  }

  hasUser(userId: string): boolean {
    return this.byUser.has(userId);
  }

  socketIds(): string[] {
    return [...this.byUser.values()].flatMap((sockets) => [...sockets]);
  }
}

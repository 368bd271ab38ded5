import type { Logger } from '../observability/logger.js';
import type { ClusterPresenceStore } from './ClusterPresenceStore.js';
import type { PresenceService } from './PresenceService.js';

export interface PresenceMaintenanceDeps {
  store: ClusterPresenceStore;
  presence: PresenceService;
  /** This instance's live sockets, the truth a repair restores. */
  localSockets: () => Array<{ socketId: string; userId: string }>;
  /** A crashed instance's users are announced offline within this window. */
  staleMs: number;
  logger: Logger;
}

/**
 * Keeps cluster presence true: a heartbeat every staleMs/5; every staleMs/5 the sockets of
 * instances silent for 3/5 of the window are removed (so a crash is cleaned up within
 * staleMs); after Redis returns, or when our heartbeat was found missing, this instance's
 * entries are rewritten from its live sockets.
 */
export class PresenceMaintenance {
  private timer?: NodeJS.Timeout;
  private repairing?: Promise<void>;

  constructor(private readonly deps: PresenceMaintenanceDeps) {}

  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.deps.staleMs / 5)));
    this.timer.unref();
  }

  /**
   * Leaves the cluster: stops the heartbeat and removes whatever this instance still holds
   * (sockets whose removal failed or ran out of drain time), announcing those users offline.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.resync(() => [], () => []);
  }

  /**
   * Rewrites this instance's presence from its live sockets and announces what changed.
   * `graceMs` lets the other instances' subscriber connections come back first after an
   * outage, since Redis pub/sub keeps nothing for an absent subscriber.
   */
  repair(graceMs = 0): Promise<void> {
    this.repairing ??= sleep(graceMs)
      .then(() => this.resync(this.deps.localSockets, () => this.deps.presence.socketsToKeep()))
      .finally(() => (this.repairing = undefined));
    return this.repairing;
  }

  /** After an outage, once the other instances can hear us again. */
  repairAfterOutage(): Promise<void> {
    return this.repair(Math.min(1000, Math.floor(this.deps.staleMs / 5)));
  }

  private async resync(liveSockets: PresenceMaintenanceDeps['localSockets'], keep: () => string[]): Promise<void> {
    try {
      const live = liveSockets();
      // Live sockets are sent once, as live: only the others need keeping.
      const liveIds = new Set(live.map((s) => s.socketId));
      const changes = await this.deps.store.resync(live, keep().filter((id) => !liveIds.has(id)));
      this.deps.presence.repaired(live, changes);
      this.deps.logger.info('presence repaired', { online: changes.online.length, offline: changes.offline.length });
    } catch (e) {
      this.deps.logger.warn('presence repair failed', { error: (e as Error).message });
    }
  }

  private async tick(): Promise<void> {
    try {
      if (await this.deps.store.heartbeat()) await this.repair();
      const gone = await this.deps.store.reapStale(Math.floor((this.deps.staleMs * 3) / 5));
      if (gone.length > 0) this.deps.logger.warn('removed presence of a stale instance', { users_offline: gone.length });
      this.deps.presence.announceOffline(gone);
    } catch (e) {
      this.deps.logger.debug('presence maintenance skipped', { error: (e as Error).message });
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

import type { PresenceStore } from './PresenceStore.js';

/** User transitions found by a repair or a cleanup, to be announced by the caller. */
export interface PresenceTransitions {
  online: string[];
  offline: Array<{ userId: string; lastSeen: string }>;
}

/**
 * A presence store shared by several instances: each keeps a heartbeat; the others remove the
 * sockets of an instance whose heartbeat went stale (a crash), exactly once cluster-wide.
 */
export interface ClusterPresenceStore extends PresenceStore {
  /** Refreshes this instance's heartbeat; true when it was missing (reaped, or Redis lost data). */
  heartbeat(): Promise<boolean>;
  /** Removes the sockets of instances silent for longer than `staleMs`; returns who went offline. */
  reapStale(staleMs: number): Promise<PresenceTransitions['offline']>;
  /**
   * Makes the store's view of this instance equal to its live sockets, keeping the entries of
   * `keep` (sockets being admitted) that are present without adding those that are not; returns
   * the transitions.
   */
  resync(sockets: Array<{ socketId: string; userId: string }>, keep?: readonly string[]): Promise<PresenceTransitions>;
}

export function isClusterPresenceStore(store: PresenceStore): store is ClusterPresenceStore {
  return typeof (store as Partial<ClusterPresenceStore>).reapStale === 'function';
}

/** Result of registering a socket: whether it was admitted, and made the user online cluster-wide. */
export interface AddResult {
  /** False when the user already had `maxSockets` sockets: nothing was added. */
  admitted: boolean;
  /** True when this is the user's first socket anywhere (an online transition). */
  firstForUser: boolean;
  /** How many sockets the user now has (when refused: already has), cluster-wide. */
  socketCount: number;
}

/** Result of removing a socket: whether it took the user offline cluster-wide. */
export interface RemoveResult {
  /** True when this was the user's last socket anywhere (an offline transition). */
  lastForUser: boolean;
  /** ISO-8601 time the user was last seen (now, when lastForUser). */
  lastSeen: string;
}

/**
 * Who is online. The only state the gateway keeps. Async and transition-reporting so that the
 * Redis driver can make first/last-socket decisions atomically across instances.
 */
export interface PresenceStore {
  /**
   * Registers a socket of a user on this instance, unless the user already has `maxSockets`
   * sockets cluster-wide (no cap when omitted). The check and the add are one step, so adds in
   * parallel never exceed the cap. Re-adding a registered socket is admitted and changes nothing.
   */
  addSocket(userId: string, socketId: string, maxSockets?: number): Promise<AddResult>;
  /** Removes a socket; unknown sockets are a no-op that reports lastForUser=false. */
  removeSocket(userId: string, socketId: string): Promise<RemoveResult>;
  /** The subset of `userIds` that is online, in the given order. */
  onlineAmong(userIds: readonly string[]): Promise<string[]>;
  /** Up to `limit` online users. */
  listOnline(limit: number): Promise<string[]>;
  /** Number of online users. */
  countOnline(): Promise<number>;
  /** How many sockets a user has, cluster-wide. */
  socketCount(userId: string): Promise<number>;
  /** Releases resources (the driver does not own shared clients). */
  close(): Promise<void>;
}

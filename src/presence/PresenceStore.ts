/** Result of registering a socket: whether it made the user online cluster-wide. */
export interface AddResult {
  /** True when this is the user's first socket anywhere (an online transition). */
  firstForUser: boolean;
  /** How many sockets the user now has, cluster-wide. */
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
  /** Registers a socket of a user on this instance. */
  addSocket(userId: string, socketId: string): Promise<AddResult>;
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

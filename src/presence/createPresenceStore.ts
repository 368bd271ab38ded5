import type { Redis } from 'ioredis';
import { MemoryPresenceStore } from './MemoryPresenceStore.js';
import type { PresenceStore } from './PresenceStore.js';
import { RedisPresenceStore } from './RedisPresenceStore.js';

/** Which driver keeps presence; the only place the choice is made. */
export type PresenceDriver = { kind: 'memory' } | { kind: 'redis'; client: Redis; instanceId: string };

/** Builds the presence driver chosen at start-up. */
export function createPresenceStore(driver: PresenceDriver): PresenceStore {
  switch (driver.kind) {
    case 'memory':
      return new MemoryPresenceStore();
    case 'redis':
      return new RedisPresenceStore(driver.client, driver.instanceId);
  }
}

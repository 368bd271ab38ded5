import { MemoryPresenceStore } from './MemoryPresenceStore.js';
import type { PresenceStore } from './PresenceStore.js';

/** Which driver keeps presence; the only place the choice is made. */
export type PresenceDriver = { kind: 'memory' };

/** Builds the presence driver chosen at start-up. */
export function createPresenceStore(driver: PresenceDriver): PresenceStore {
  switch (driver.kind) {
    case 'memory':
      return new MemoryPresenceStore();
  }
}

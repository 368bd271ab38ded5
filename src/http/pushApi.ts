import { Router } from 'express';
import type { GatewayConfig } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { PresenceStore } from '../presence/PresenceStore.js';
import type { GatewayServer } from '../socket/types.js';

export interface PushApiDeps {
  config: GatewayConfig;
  io: GatewayServer;
  presenceStore: PresenceStore;
  metrics: Metrics;
  logger: Logger;
  /** Figures for GET /api/v1/stats (counts, breaker states, instance id). */
  stats: () => Promise<Record<string, unknown>>;
}

/** The backend API of contract section 5 (X-API-Key from PUSH_API_KEYS). */
export function pushApiRoutes(_deps: PushApiDeps): Router {
  return Router();
}

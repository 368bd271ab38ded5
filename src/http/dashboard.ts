import { Router } from 'express';
import type { GatewayConfig } from '../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import type { PresenceStore } from '../presence/PresenceStore.js';
import type { GatewayServer } from '../socket/types.js';

export interface DashboardDeps {
  config: GatewayConfig;
  io: GatewayServer;
  presenceStore: PresenceStore;
  metrics: Metrics;
  /** Refreshes read-not-counted gauges (online users, breaker states) before a read. */
  refreshGauges: () => Promise<void>;
}

/** The operations dashboard (issue 5): a page and its JSON feed, behind an admin key. */
export function dashboardRoutes(_deps: DashboardDeps): Router {
  return Router();
}

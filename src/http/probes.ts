import { Router } from 'express';
import type { ServiceHealth } from '../clients/ServiceClient.js';
import type { Metrics } from '../observability/metrics.js';
import type { PresenceStore } from '../presence/PresenceStore.js';

export interface ProbeDeps {
  service: string;
  instanceId: string;
  startedAt: number;
  metrics: Metrics;
  presenceStore: Pick<PresenceStore, 'countOnline'>;
  /** Local open sockets. */
  connections: () => number;
  /** Null when ready, else why not (draining, redis down...). */
  notReadyReason: () => Promise<string | null>;
  /**
   * The backend services by name, shown in /health's body but never in /ready's status: a fleet
   * that turns unready because a dependency is down only adds an outage of its own.
   */
  services: () => Record<string, ServiceHealth>;
  /** Refreshes gauges that are read, not counted (online users, breaker states). */
  refreshGauges: () => Promise<void>;
}

/** `/health`, `/ready` and `/metrics` (contract section 5), without auth. */
export function probeRoutes(deps: ProbeDeps): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const onlineUsers = await deps.presenceStore.countOnline().catch(() => null);
    res.json({
      status: 'ok',
      service: deps.service,
      instance_id: deps.instanceId,
      connections: deps.connections(),
      online_users: onlineUsers,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
      services: deps.services(),
      timestamp: new Date().toISOString(),
    });
  });
  router.get('/ready', async (_req, res) => {
    const reason = await deps.notReadyReason();
    if (reason) res.status(503).json({ status: 'not_ready', reason });
    else res.json({ status: 'ready' });
  });
  router.get('/metrics', async (_req, res) => {
    await deps.refreshGauges();
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}

import { createRequire } from 'node:module';
import path from 'node:path';
import { Router, type RequestHandler } from 'express';
import type { GatewayConfig } from '../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import type { PresenceStore } from '../presence/PresenceStore.js';
import { rooms } from '../socket/events.js';
import type { GatewayServer } from '../socket/types.js';
import { requireKeyHeader } from './apiKeys.js';
import { sendError } from './httpErrors.js';
import { dashboardHtml } from './dashboard/page.js';
import { DASHBOARD_JS } from './dashboard/script.js';
import { deriveSnapshot } from './dashboard/snapshot.js';
import { DASHBOARD_CSS } from './dashboard/styles.js';

export interface DashboardDeps {
  config: GatewayConfig;
  io: GatewayServer;
  presenceStore: PresenceStore;
  metrics: Metrics;
  /** Refreshes read-not-counted gauges (online users, breaker states) before a read. */
  refreshGauges: () => Promise<void>;
}

/**
 * Scripts, styles and data from this origin only: no inline script or style, no framing
 * (helmet's default policy would also upgrade requests to https, which a plain-http gateway lacks).
 */
const ADMIN_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** chart.js does not export its UMD build; it sits beside the CommonJS entry point. */
const CHART_JS_PATH = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');

/**
 * The operations dashboard (issue 5): `GET /admin` (the page, its script, styles and Chart.js)
 * and `GET /admin/api/snapshot` (this instance's figures, read from the registry /metrics
 * prints), behind `X-Admin-Key`: ADMIN_API_KEY when set, else any PUSH_API_KEYS key; with
 * neither, the API answers 404 and the page says it is disabled.
 */
export function dashboardRoutes(deps: DashboardDeps): Router {
  const { config, io, metrics } = deps;
  const startedAt = Date.now();
  const keys = config.adminApiKey ? [config.adminApiKey] : config.pushApiKeys;
  const router = Router();
  router.use('/admin', (_req, res, next) => {
    res.set('Content-Security-Policy', ADMIN_CSP);
    next();
  });

  const page = dashboardHtml(keys.length > 0);
  router.get('/admin', (_req, res) => {
    res.set('Cache-Control', 'no-store').type('html').send(page);
  });
  router.get('/admin/dashboard.js', (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('js').send(DASHBOARD_JS);
  });
  router.get('/admin/dashboard.css', (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('css').send(DASHBOARD_CSS);
  });
  router.get('/admin/chart.umd.js', (_req, res) => {
    res.sendFile(CHART_JS_PATH, { maxAge: '1h' });
  });

  const api = Router();
  api.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  api.use(keys.length > 0 ? requireKeyHeader('X-Admin-Key', keys) : apiDisabled);
  api.get('/snapshot', async (_req, res) => {
    await deps.refreshGauges();
    const snapshot = deriveSnapshot(await metrics.registry.getMetricsAsJSON(), {
      instanceId: config.instanceId,
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      rooms: [...io.of('/').adapter.rooms.keys()].filter(rooms.isChat).length,
      now: new Date(),
    });
    res.json(snapshot);
  });
  router.use('/admin/api', api);
  return router;
}


const apiDisabled: RequestHandler = (_req, res) => {
  sendError(res, 'NOT_FOUND', 'the dashboard API is disabled: set ADMIN_API_KEY or PUSH_API_KEYS');
};

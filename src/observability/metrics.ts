import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Numeric breaker states for the `gateway_circuit_breaker_state` gauge. */
export const BREAKER_STATE_VALUE = { closed: 0, open: 1, half_open: 2, isolated: 3 } as const;

/** All Prometheus metrics of one gateway instance, on a registry of its own. */
export interface Metrics {
  registry: Registry;
  connections: Gauge;
  onlineUsers: Gauge;
  events: Counter<'event' | 'outcome'>;
  handlerSeconds: Histogram<'event'>;
  outgoingSeconds: Histogram<'service' | 'operation' | 'outcome'>;
  breakerState: Gauge<'service'>;
  rateLimited: Counter<'family'>;
  connectionsRejected: Counter<'reason'>;
  handshakesInProgress: Gauge;
  sinkDropped: Counter<'sink'>;
  statusUpdates: Counter<'outcome'>;
  processErrors: Counter<'kind'>;
  disconnects: Counter<'reason'>;
}

/** Builds a fresh registry (never the global one) so tests can run many gateways in one process. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const registers = [registry];
  return {
    registry,
    connections: new Gauge({ name: 'gateway_connections', help: 'Open Socket.IO connections on this instance', registers }),
    onlineUsers: new Gauge({ name: 'gateway_online_users', help: 'Users online (cluster view)', registers }),
    events: new Counter({
      name: 'gateway_events_total',
      help: 'Client events handled, by event name and outcome (ok or error code)',
      labelNames: ['event', 'outcome'],
      registers,
    }),
    handlerSeconds: new Histogram({
      name: 'gateway_handler_duration_seconds',
      help: 'Time from receiving a client event to its ack',
      labelNames: ['event'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    outgoingSeconds: new Histogram({
      name: 'gateway_outgoing_request_duration_seconds',
      help: 'Calls to backend services, by service, operation and outcome',
      labelNames: ['service', 'operation', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    breakerState: new Gauge({
      name: 'gateway_circuit_breaker_state',
      help: 'Circuit breaker state by service: 0 closed, 1 open, 2 half-open, 3 isolated',
      labelNames: ['service'],
      registers,
    }),
    rateLimited: new Counter({
      name: 'gateway_rate_limit_rejections_total',
      help: 'Events refused by a rate limit, by family',
      labelNames: ['family'],
      registers,
    }),
    connectionsRejected: new Counter({
      name: 'gateway_connections_rejected_total',
      help: 'Handshakes refused, by reason',
      labelNames: ['reason'],
      registers,
    }),
    handshakesInProgress: new Gauge({
      name: 'gateway_handshakes_in_progress',
      help: 'Handshakes admitted and not finished (token verification, socket cap)',
      registers,
    }),
    sinkDropped: new Counter({
      name: 'gateway_sink_events_dropped_total',
      help: 'Fire-and-forget events that could not be delivered, by sink',
      labelNames: ['sink'],
      registers,
    }),
    statusUpdates: new Counter({
      name: 'gateway_status_updates_total',
      help: 'Status updates for the auth-service, by outcome: sent, coalesced (replaced or cancelled by a later one), dropped (too many pending), failed',
      labelNames: ['outcome'],
      registers,
    }),
    disconnects: new Counter({
      name: 'gateway_forced_disconnects_total',
      help: 'Sockets the gateway closed, by reason (flood, slow_consumer, idle, auth_expired)',
      labelNames: ['reason'],
      registers,
    }),
    processErrors: new Counter({
      name: 'gateway_process_errors_total',
      help: 'Unhandled rejections and uncaught exceptions',
      labelNames: ['kind'],
      registers,
    }),
  };
}

/** One metric as `registry.getMetricsAsJSON()` gives it (histograms: `_bucket`, `_sum`, `_count` values). */
export interface MetricJson {
  name: string;
  values: Array<{ value: number; labels: Partial<Record<string, string | number>>; metricName?: string }>;
}

/** Breaker states by the value of `gateway_circuit_breaker_state` (see BREAKER_STATE_VALUE). */
const BREAKER_STATES = ['closed', 'open', 'half_open', 'isolated'] as const;
export type DashboardBreakerState = (typeof BREAKER_STATES)[number] | 'unknown';

/** Client events of one name, counted since the start (`gateway_events_total`). */
export interface EventFigures {
  event: string;
  total: number;
  /** Every outcome but `ok`. */
  errors: number;
  /** By outcome: `ok` or an error code. */
  outcomes: Record<string, number>;
}

/** Calls to one backend service since the start (`gateway_outgoing_request_duration_seconds`). */
export interface ServiceFigures {
  service: string;
  breaker: DashboardBreakerState;
  requests: number;
  /** Calls whose outcome was not `ok`. */
  errors: number;
  mean_ms: number | null;
  /** Estimated from the buckets, as Prometheus' histogram_quantile does; null without calls. */
  p50_ms: number | null;
  p95_ms: number | null;
  /** Cumulative counts per finite upper bound (over every operation and outcome), for windowed quantiles. */
  buckets: Array<{ le_ms: number; count: number }>;
}

/** What `GET /admin/api/snapshot` answers: this instance's figures, read from the /metrics registry. */
export interface DashboardSnapshot {
  instance_id: string;
  timestamp: string;
  uptime_s: number;
  connections: number;
  online_users: number;
  /** Socket.IO chat rooms (`room:*`) with a socket on this instance. */
  rooms: number;
  events_total: number;
  events: EventFigures[];
  services: ServiceFigures[];
  /** By family. */
  rate_limit_rejections: Record<string, number>;
  /** By reason (flood, slow_consumer, idle, auth_expired). */
  forced_disconnects: Record<string, number>;
  /** Handshakes refused, by reason. */
  handshakes_rejected: Record<string, number>;
  event_loop: { lag_ms: number | null; lag_p99_ms: number | null };
  memory: { rss_bytes: number | null; heap_used_bytes: number | null; heap_total_bytes: number | null };
}

/** Figures the registry does not hold. */
export interface SnapshotContext {
  instanceId: string;
  uptimeS: number;
  rooms: number;
  now: Date;
}

/** Derives the dashboard's snapshot from the registry's JSON (the same figures /metrics prints). */
export function deriveSnapshot(metrics: readonly MetricJson[], ctx: SnapshotContext): DashboardSnapshot {
  const byName = new Map(metrics.map((m) => [m.name, m]));
  const values = (name: string) => byName.get(name)?.values ?? [];
  const single = (name: string) => values(name)[0]?.value ?? null;
  const events = eventFigures(values('gateway_events_total'));
  return {
    instance_id: ctx.instanceId,
    timestamp: ctx.now.toISOString(),
    uptime_s: ctx.uptimeS,
    connections: single('gateway_connections') ?? 0,
    online_users: single('gateway_online_users') ?? 0,
    rooms: ctx.rooms,
    events_total: events.reduce((n, e) => n + e.total, 0),
    events,
    services: serviceFigures(values('gateway_outgoing_request_duration_seconds'), values('gateway_circuit_breaker_state')),
    rate_limit_rejections: sumBy(values('gateway_rate_limit_rejections_total'), 'family'),
    forced_disconnects: sumBy(values('gateway_forced_disconnects_total'), 'reason'),
    handshakes_rejected: sumBy(values('gateway_connections_rejected_total'), 'reason'),
    event_loop: { lag_ms: toMs(single('nodejs_eventloop_lag_seconds')), lag_p99_ms: toMs(delayAboveInterval(single('nodejs_eventloop_lag_p99_seconds'), single('nodejs_eventloop_lag_min_seconds'))) },
    memory: {
      rss_bytes: single('process_resident_memory_bytes'),
      heap_used_bytes: single('nodejs_heap_size_used_bytes'),
      heap_total_bytes: single('nodejs_heap_size_total_bytes'),
    },
  };
}

/**
 * The `q` quantile of a histogram, interpolated linearly inside the bucket that holds it (as
 * Prometheus' histogram_quantile); beyond the last finite bound, that bound. Null without samples.
 * The dashboard page repeats this function for its windowed p95.
 */
export function estimateQuantile(buckets: ReadonlyArray<{ le_ms: number; count: number }>, total: number, q: number): number | null {
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const { le_ms, count } of buckets) {
    if (count >= rank) {
      const inBucket = count - lowerCount;
      return inBucket > 0 ? lowerBound + ((le_ms - lowerBound) * (rank - lowerCount)) / inBucket : le_ms;
    }
    lowerBound = le_ms;
    lowerCount = count;
  }
  return lowerBound;
}

function eventFigures(samples: MetricJson['values']): EventFigures[] {
  const byEvent = new Map<string, EventFigures>();
  for (const { labels, value } of samples) {
    const event = String(labels.event);
    const outcome = String(labels.outcome);
    const figures = byEvent.get(event) ?? { event, total: 0, errors: 0, outcomes: {} };
    figures.total += value;
    if (outcome !== 'ok') figures.errors += value;
    figures.outcomes[outcome] = (figures.outcomes[outcome] ?? 0) + value;
    byEvent.set(event, figures);
  }
  return [...byEvent.values()].sort((a, b) => a.event.localeCompare(b.event));
}

function serviceFigures(histogram: MetricJson['values'], breakers: MetricJson['values']): ServiceFigures[] {
  const acc = new Map<string, { requests: number; errors: number; sum: number; buckets: Map<number, number> }>();
  const of = (service: string) => {
    let a = acc.get(service);
    if (!a) acc.set(service, (a = { requests: 0, errors: 0, sum: 0, buckets: new Map() }));
    return a;
  };
  for (const { labels } of breakers) of(String(labels.service));
  for (const { labels, value, metricName } of histogram) {
    const a = of(String(labels.service));
    if (metricName?.endsWith('_count')) {
      a.requests += value;
      if (labels.outcome !== 'ok') a.errors += value;
    } else if (metricName?.endsWith('_sum')) {
      a.sum += value;
    } else if (metricName?.endsWith('_bucket') && labels.le !== '+Inf') {
      const leMs = Number(labels.le) * 1000;
      a.buckets.set(leMs, (a.buckets.get(leMs) ?? 0) + value);
    }
  }
  const breakerOf = new Map<string, DashboardBreakerState>(
    breakers.map((b) => [String(b.labels.service), BREAKER_STATES[b.value] ?? 'unknown']),
  );
  return [...acc.entries()]
    .map(([service, a]): ServiceFigures => {
      const buckets = [...a.buckets.entries()].sort(([x], [y]) => x - y).map(([le_ms, count]) => ({ le_ms, count }));
      return {
        service,
        breaker: breakerOf.get(service) ?? 'unknown',
        requests: a.requests,
        errors: a.errors,
        mean_ms: a.requests > 0 ? round((a.sum * 1000) / a.requests) : null,
        p50_ms: roundOrNull(estimateQuantile(buckets, a.requests, 0.5)),
        p95_ms: roundOrNull(estimateQuantile(buckets, a.requests, 0.95)),
        buckets,
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service));
}

function sumBy(samples: MetricJson['values'], label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { labels, value } of samples) {
    const key = String(labels[label]);
    out[key] = (out[key] ?? 0) + value;
  }
  return out;
}

/**
 * prom-client's delay monitor records whole timer intervals (20 ms plus any delay): the delay is
 * what lies above the shortest one. An empty monitor reports p99 0 and a huge minimum.
 */
function delayAboveInterval(seconds: number | null, minimum: number | null): number | null {
  return seconds === null || minimum === null ? seconds : Math.max(0, seconds - minimum);
}

function toMs(seconds: number | null): number | null {
  return seconds === null ? null : round(seconds * 1000);
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : round(value);
}

/** Three decimals: microseconds when the unit is milliseconds. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

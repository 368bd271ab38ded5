import { randomUUID } from 'node:crypto';
import type { Metrics } from '../observability/metrics.js';
import type { ServiceClient } from './ServiceClient.js';

/** Kinds of events the optional sinks receive (contract section 6). */
export type SinkEventType = 'user_online' | 'user_offline' | 'message_persisted' | 'room_joined' | 'room_left';

/** Which sinks get which events. */
export interface Sink {
  name: string;
  client: ServiceClient;
  accepts: ReadonlySet<SinkEventType>;
}

/** Calls in flight per sink above which new events are dropped, so a slow sink costs no memory. */
const MAX_IN_FLIGHT = 500;

/**
 * Fire-and-forget delivery of events to the optional engines. `publish` never throws, never
 * awaits, and never delays a client's event; failures are only counted.
 */
export class SinkPublisher {
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly sinks: Sink[],
    private readonly metrics: Metrics,
  ) {}

  publish(type: SinkEventType, fields: Record<string, unknown>): void {
    for (const sink of this.sinks) {
      if (sink.accepts.has(type)) this.send(sink, { type, at: new Date().toISOString(), ...fields });
    }
  }

  close(): void {
    for (const sink of this.sinks) sink.client.close();
  }

  private send(sink: Sink, body: Record<string, unknown>): void {
    const busy = this.inFlight.get(sink.name) ?? 0;
    if (busy >= MAX_IN_FLIGHT) {
      this.metrics.sinkDropped.inc({ sink: sink.name });
      return;
    }
    this.inFlight.set(sink.name, busy + 1);
    sink.client
      .request({ method: 'POST', path: '/events', operation: 'event', body, requestId: randomUUID() })
      .catch(() => this.metrics.sinkDropped.inc({ sink: sink.name }))
      .finally(() => this.inFlight.set(sink.name, (this.inFlight.get(sink.name) ?? 1) - 1));
  }
}

import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { GatewayServer } from '../io/GatewayServer.js';

/** How often queued output is checked: a sweep over local sockets, never per event. */
const SWEEP_MS = 1000;

/** The parts of Engine.IO's connection this guard reads (`writeBuffer` is not in its types). */
interface EngineConnection {
  writeBuffer: Array<{ data?: unknown }>;
  transport: { socket?: { bufferedAmount?: number; terminate?: () => void } };
  close(discard: boolean): void;
}

/**
 * Closes sockets whose peer does not read: what a server writes to them queues in memory
 * (the websocket's send buffer, then Engine.IO's write buffer), so one slow reader could grow
 * the gateway without bound.
 */
export class SlowConsumerGuard {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly io: GatewayServer,
    private readonly maxBufferedBytes: number,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Disconnects every local socket with more than `maxBufferedBytes` queued. */
  sweep(): void {
    for (const socket of this.io.of('/').sockets.values()) {
      const conn = socket.conn as unknown as EngineConnection;
      const queued = queuedBytes(conn);
      if (queued <= this.maxBufferedBytes) continue;
      this.logger.warn('disconnecting a slow consumer', { user_id: socket.data.userId, queued_bytes: queued });
      this.metrics.disconnects.inc({ reason: 'slow_consumer' });
      // A graceful close would wait for the queue to drain, which is the problem: drop it.
      conn.transport.socket?.terminate?.();
      conn.close(true);
    }
  }
}

function queuedBytes(conn: EngineConnection): number {
  let bytes = conn.transport.socket?.bufferedAmount ?? 0;
  for (const packet of conn.writeBuffer) {
    const data = packet.data;
    bytes += typeof data === 'string' ? data.length : Buffer.isBuffer(data) ? data.length : 0;
  }
  return bytes;
}

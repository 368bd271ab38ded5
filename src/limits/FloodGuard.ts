import type { Metrics } from '../observability/metrics.js';
import type { GatewaySocket } from '../io/GatewayServer.js';

/** Refused events are counted over this window. */
const WINDOW_MS = 10_000;

/**
 * Disconnects a socket that keeps sending refused events (rate-limited, invalid, oversize or
 * unknown): a client that ignores RATE_LIMITED is flooding, not chatting.
 */
export class FloodGuard {
  constructor(
    /** Refused events per window tolerated; 0 = never disconnect. */
    private readonly limit: number,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one refused event of this socket; past the limit, tells it why and disconnects it. */
  strike(socket: GatewaySocket): void {
    if (this.limit === 0 || !socket.connected) return;
    const now = this.now();
    const data = socket.data;
    if (now - data.strikesSince > WINDOW_MS) {
      data.strikes = 0;
      data.strikesSince = now;
    }
    if (++data.strikes <= this.limit) return;
    socket.emit('error', { code: 'RATE_LIMITED', message: 'too many refused events; disconnecting' });
    this.metrics.disconnects.inc({ reason: 'flood' });
    socket.disconnect(true);
  }
}

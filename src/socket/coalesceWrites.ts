/**
 * Engine.IO writes every packet as soon as it is emitted, one `writev` per WebSocket frame, and
 * a second packet emitted in the same tick waits for the first write's callback. A message
 * sends its sender two frames (`message_sent`, then the ack) and a batch of stored messages
 * sends many: this defers a connection's flush to the end of the current tick and corks the
 * TCP socket around it, so what one tick emits to one client leaves in one write.
 */

/** The parts of Engine.IO's connection used here (`flush` and the transport are untyped). */
interface EngineConnection {
  flush(): void;
  readyState: string;
  transport: { name: string; socket?: { _socket?: { cork(): void; uncork(): void } } };
}

export function coalesceWrites(connection: unknown): void {
  const conn = connection as EngineConnection;
  const flushNow = conn.flush.bind(conn);
  let scheduled = false;
  const flushCorked = () => {
    scheduled = false;
    const tcp = conn.transport.name === 'websocket' ? conn.transport.socket?._socket : undefined;
    tcp?.cork();
    try {
      flushNow();
    } finally {
      tcp?.uncork();
    }
  };
  conn.flush = () => {
    if (scheduled) return;
    scheduled = true;
    process.nextTick(flushCorked);
  };
}

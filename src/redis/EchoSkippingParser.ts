import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import notepack from 'notepack.io';

/** An adapter as far as this parser needs it: its id, which opens each of its messages. */
interface IdentifiedAdapter {
  readonly uid: string;
}

/**
 * The classic Redis adapter's message format (msgpack, as its default parser), minus a waste:
 * every instance subscribes to every broadcast channel, so each gets its own publishes back and
 * the adapter decodes each whole before it sees the sender was itself. A message is
 * `[uid, packet, opts]`, so its first bytes name the sender: one of ours is answered with `[uid]`
 * alone, which the adapter drops as its own. Other messages decode as before.
 */
export class EchoSkippingParser {
  private readonly own: Array<{ uid: string; prefix: Buffer }> = [];

  /** Registers an adapter made with this parser; returns it. */
  adopt<A extends IdentifiedAdapter>(adapter: A): A {
    // msgpack of [uid, null, null] is the array header, the uid, then one byte per null.
    this.own.push({ uid: adapter.uid, prefix: (notepack.encode([adapter.uid, null, null]) as Buffer).subarray(0, -2) });
    return adapter;
  }

  encode(message: unknown): Buffer {
    return notepack.encode(message) as Buffer;
  }

  decode(message: Buffer): unknown {
    for (const { uid, prefix } of this.own) {
      if (message.length > prefix.length && message.compare(prefix, 0, prefix.length, 0, prefix.length) === 0) return [uid];
    }
    return notepack.decode(message);
  }
}

/** The classic Redis adapter (PUBLISH/PSUBSCRIBE) with an echo-skipping parser. */
export function createEchoSkippingAdapter(pub: Redis, sub: Redis, key: string, parser = new EchoSkippingParser()) {
  const adapterFor = createAdapter(pub, sub, { key, parser });
  // Socket.IO calls this with `new`, so a function rather than an arrow; it returns the adapter.
  return function echoSkippingAdapter(nsp: Parameters<typeof adapterFor>[0]) {
    return parser.adopt(adapterFor(nsp));
  };
}

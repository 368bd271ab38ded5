import { createRequire } from 'node:module';
import type { Packet } from 'socket.io-parser';

// Socket.IO loads the parser's CommonJS build; its ESM entry for Node is the debug build
// (every packet logged through `debug`), measurably slower. Use the same build as Socket.IO.
const parser = createRequire(import.meta.url)('socket.io-parser') as typeof import('socket.io-parser');
const { Decoder } = parser;

/** The Encoder Socket.IO uses by default, from the same (non-debug) build. */
export const { Encoder } = parser;

/** The byte size of the frame(s) an event arrived in, set on its arguments array. */
export const FRAME_BYTES = Symbol('frameBytes');

/**
 * Socket.IO's own decoder, which also notes how many bytes each packet took on the wire
 * (a binary packet: its header and every attachment). Socket.IO hands the packet to the socket
 * a tick later, after more frames may have arrived, so the size must travel with the packet.
 */
export class SizedDecoder extends Decoder {
  private bytes = 0;

  constructor(...args: ConstructorParameters<typeof Decoder>) {
    super(...args);
    // Registered before Socket.IO's own listener, so the packet is tagged before it is used.
    this.on('decoded', (packet: Packet) => {
      if (Array.isArray(packet.data)) Object.defineProperty(packet.data, FRAME_BYTES, { value: this.bytes });
      this.bytes = 0;
    });
  }

  override add(chunk: unknown): void {
    this.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : ((chunk as ArrayBufferView)?.byteLength ?? 0);
    try {
      super.add(chunk);
    } catch (e) {
      this.bytes = 0;
      throw e;
    }
  }
}

/** The size noted by SizedDecoder, or 0 when unknown. */
export function frameBytesOf(args: unknown[]): number {
  return (args as unknown as Record<symbol, number>)[FRAME_BYTES] ?? 0;
}

import type { Socket as TcpSocket } from 'node:net';
import sinon from 'sinon';

/**
 * Spies on what a TCP socket writes: each call of Node's internal `_writeGeneric` is one write
 * or writev on the socket (`args`: whether it is a writev, and the data). The one place the
 * tests depend on that internal.
 */
export function spyOnSocketWrites(tcp: TcpSocket) {
  return sinon.spy(tcp as TcpSocket & { _writeGeneric(writev: boolean, data: unknown): void }, '_writeGeneric');
}

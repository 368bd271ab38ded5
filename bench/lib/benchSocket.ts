/**
 * One load-generating socket speaking Engine.IO/Socket.IO over `ws` directly (socket.io-client
 * is too slow to saturate a server on two cores). It answers pings, authenticates in the
 * CONNECT packet, emits events with ack ids and hands every other frame to its owner.
 */
import { WebSocket } from 'ws';
import { PING, PONG, ackIsOk, ackOf, connectFrame, eventFrame, eventName, frameKind, numberField, stringField, websocketUrl } from './wire.js';

/** The server refused the handshake with a Socket.IO `connect_error` (contract section 1). */
export class ConnectRefused extends Error {
  override readonly name = 'ConnectRefused';

  constructor(
    frame: string,
    /** `err.data.code`: `SERVER_BUSY`, `AUTH_INVALID`, … */
    readonly code: string | undefined,
    /** `err.data.retry_after_ms`, when the server says when to come back. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(`connect_error ${frame.slice(2, 160)}`);
  }
}

/** Told about what arrives on a socket once it is connected. */
export interface SocketListener {
  onEvent(socket: BenchSocket, name: string, frame: string, receivedAt: number): void;
  onClose(socket: BenchSocket, code: number, wasExpected: boolean): void;
  /**
   * The server ended the session (`41`, or Engine.IO close) on an open socket: socket.io-client
   * is disconnected from here on, though the websocket closes only once the server gets to it.
   */
  onServerDisconnect?(socket: BenchSocket): void;
}

/** Called with the ack's outcome and the time it arrived. */
export type AckHandler = (ok: boolean, frame: string, payloadAt: number) => void;

export class BenchSocket {
  /** True between the `connected` event and the close. */
  open = false;
  /** Set before closing on purpose, so the close is not counted as a drop. */
  closing = false;
  /** Message ids received, for receipts (bounded). */
  readonly receivedIds: string[] = [];
  private ws: WebSocket | undefined;
  private nextAck = 1;
  private readonly acks = new Map<number, AckHandler>();

  constructor(
    readonly user: string,
    private readonly listener: SocketListener,
  ) {}

  /** Opens the websocket and authenticates; resolves on the server's `connected` event. */
  connect(base: string, auth: object, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(websocketUrl(base), { perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: timeoutMs });
      this.ws = ws;
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!error) {
          this.open = true;
          return resolve();
        }
        ws.terminate();
        reject(error);
      };
      const timer = setTimeout(() => settle(new Error('handshake timeout')), timeoutMs);
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) return;
        const frame = data.toString();
        switch (frameKind(frame)) {
          case 'ping':
            return ws.send(PONG);
          case 'open':
            return ws.send(connectFrame(auth));
          case 'connect_error':
            return settle(new ConnectRefused(frame, stringField(frame, 'code'), numberField(frame, 'retry_after_ms')));
          case 'ack':
            return this.onAck(frame);
          case 'close':
            return settled && this.open ? this.listener.onServerDisconnect?.(this) : undefined;
          case 'event': {
            const name = eventName(frame);
            if (name === 'connected' && !settled) return settle();
            return this.listener.onEvent(this, name, frame, performance.timeOrigin + performance.now());
          }
        }
      });
      ws.on('close', (code: number) => {
        const wasOpen = this.open;
        this.open = false;
        for (const handler of this.acks.values()) handler(false, '[{"closed":true}]', 0);
        this.acks.clear();
        if (!settled) return settle(new Error(`closed during handshake (${code})`));
        if (wasOpen) this.listener.onClose(this, code, this.closing);
      });
      // A refused or reset connection ends in `close`; the error needs a listener only.
      ws.on('error', (e: Error) => settle(e));
    });
  }

  /** Emits `event` with a payload that is already JSON, asking for an ack. */
  emit(event: string, payloadJson: string, onAck: AckHandler): void {
    if (!this.open || !this.ws) return onAck(false, '[{"not_open":true}]', 0);
    const id = this.nextAck++;
    this.acks.set(id, onAck);
    this.ws.send(eventFrame(event, payloadJson, id));
  }

  /** Closes politely and resolves once closed (or terminates after `timeoutMs`). */
  close(timeoutMs: number): Promise<void> {
    const ws = this.ws;
    this.closing = true;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, timeoutMs);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close();
    });
  }

  private onAck(frame: string): void {
    const { id, payloadAt } = ackOf(frame);
    const handler = this.acks.get(id);
    if (!handler) return;
    this.acks.delete(id);
    handler(ackIsOk(frame, payloadAt), frame, payloadAt);
  }
}

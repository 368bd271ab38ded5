/**
 * The Engine.IO v4 / Socket.IO v5 text frames the load client speaks over a websocket:
 * `0{…}` open, `2`/`3` ping/pong, `40{auth}` connect, `42[…]` event, `42N[…]` event with ack
 * id N, `43N[…]` the server's ack, `44{…}` connect error.
 */

/** `ws://host:port/socket.io/?EIO=4&transport=websocket` for an `http://host:port` base. */
export function websocketUrl(base: string): string {
  return `${base.replace(/^http/, 'ws').replace(/\/+$/, '')}/socket.io/?EIO=4&transport=websocket`;
}

export const PING = '2';
export const PONG = '3';

/** Socket.IO CONNECT to the main namespace with a handshake `auth` object. */
export function connectFrame(auth: object): string {
  return `40${JSON.stringify(auth)}`;
}

/** An event with an ack id; `payloadJson` is already JSON. */
export function eventFrame(event: string, payloadJson: string, ackId: number): string {
  return `42${ackId}["${event}",${payloadJson}]`;
}

/** What kind of frame arrived, looking at its first characters only. */
export type FrameKind = 'open' | 'ping' | 'close' | 'connect' | 'connect_error' | 'event' | 'ack' | 'other';

export function frameKind(frame: string): FrameKind {
  switch (frame.charCodeAt(0)) {
    case 0x30: // 0
      return 'open';
    case 0x31: // 1
      return 'close';
    case 0x32: // 2
      return 'ping';
    case 0x34: // 4 (message): Socket.IO packet type follows
      switch (frame.charCodeAt(1)) {
        case 0x30:
          return 'connect';
        case 0x31: // 41: the server disconnected the namespace
          return 'close';
        case 0x32:
          return 'event';
        case 0x33:
          return 'ack';
        case 0x34:
          return 'connect_error';
      }
  }
  return 'other';
}

/** The event name of a `42[…]` frame without parsing the payload. */
export function eventName(frame: string): string {
  const start = frame.indexOf('["') + 2;
  return frame.slice(start, frame.indexOf('"', start));
}

/** The ack id of a `43N[…]` frame and where its payload starts. */
export function ackOf(frame: string): { id: number; payloadAt: number } {
  let i = 2;
  let id = 0;
  for (let c = frame.charCodeAt(i); c >= 0x30 && c <= 0x39; c = frame.charCodeAt(++i)) id = id * 10 + (c - 0x30);
  return { id, payloadAt: i };
}

/** True when an ack's payload is `[{"ok":true…`. */
export function ackIsOk(frame: string, payloadAt: number): boolean {
  return frame.startsWith('[{"ok":true', payloadAt);
}

/** The string value of `"field":"…"` in a frame (no escapes expected), or undefined. */
export function stringField(frame: string, field: string, from = 0): string | undefined {
  const key = `"${field}":"`;
  const at = frame.indexOf(key, from);
  if (at < 0) return undefined;
  const start = at + key.length;
  return frame.slice(start, frame.indexOf('"', start));
}

/** The value of a numeric `"field":123` in a frame, or undefined. */
export function numberField(frame: string, field: string): number | undefined {
  const match = new RegExp(`"${field}":(-?\\d+(?:\\.\\d+)?)`).exec(frame);
  return match ? Number(match[1]) : undefined;
}

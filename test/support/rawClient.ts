import { WebSocket } from 'ws';

/**
 * Raw Engine.IO v4 / Socket.IO v5 clients for malformed-traffic tests: they send whatever they
 * are given, byte for byte, over a websocket or over HTTP long-polling, and read what comes back.
 * Both answer the server's pings (`2` → `3`) so a slow test is not mistaken for a dead client.
 */

/** A frame the server sent: text, or binary bytes. */
export type RawFrame = string | Buffer;

/** How a wait for an answer ended. */
export type Outcome<T> = { kind: 'answer'; value: T } | { kind: 'closed' } | { kind: 'timeout' };

/** What the `connected` greeting carries once Socket.IO CONNECT succeeded. */
export interface Greeting {
  sid: string;
  user_id?: string;
}

/** Engine.IO record separator between packets in one polling body. */
export const RECORD_SEPARATOR = '\x1e';

/** The base of every Engine.IO URL: `{base}/socket.io/?EIO=4&transport=…`. */
function engineUrl(base: string, transport: 'websocket' | 'polling', extra = ''): string {
  return `${base.replace(/\/+$/, '')}/socket.io/?EIO=4&transport=${transport}${extra}`;
}

interface Waiter {
  match: (frame: RawFrame) => boolean;
  resolve: (frame: RawFrame | undefined) => void;
}

/** One raw websocket connection to the gateway. */
export class RawWsClient {
  /** Every frame received, in order (pings excluded). */
  readonly frames: RawFrame[] = [];
  /** Engine.IO session id, from the open packet. */
  sid = '';
  /** Close code and reason once closed. */
  closeInfo: { code: number; reason: string } | undefined;
  private waiters: Waiter[] = [];
  private nextAck = 1;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(isBinary ? data : data.toString('utf8')));
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeInfo = { code, reason: reason.toString() };
      for (const w of this.waiters.splice(0)) w.resolve(undefined);
    });
    // A refused or reset connection ends as `close`; the error itself is expected traffic.
    ws.on('error', () => undefined);
  }

  /**
   * Opens a websocket to `base` (http://host:port) and waits for the Engine.IO open packet.
   * `extraQuery` is appended to the URL as it is (e.g. `&token=…`).
   */
  static open(base: string, opts: { extraQuery?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<RawWsClient> {
    const url = engineUrl(base.replace(/^http/, 'ws'), 'websocket', opts.extraQuery);
    const ws = new WebSocket(url, { headers: opts.headers, perMessageDeflate: false, skipUTF8Validation: true });
    const client = new RawWsClient(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('no Engine.IO open packet'));
      }, opts.timeoutMs ?? 3000);
      void client.next((f) => typeof f === 'string' && f.startsWith('0'), opts.timeoutMs ?? 3000).then((open) => {
        clearTimeout(timer);
        if (typeof open !== 'string') return reject(new Error(`websocket closed before open (${client.closeInfo?.code})`));
        client.sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
        resolve(client);
      });
    });
  }

  /**
   * Opens a websocket without waiting for an open packet (an upgrade of a polling session sends
   * none): resolves once the websocket is open, or closed.
   */
  static attach(base: string, extraQuery: string, timeoutMs = 3000): Promise<RawWsClient> {
    const ws = new WebSocket(engineUrl(base.replace(/^http/, 'ws'), 'websocket', extraQuery), { perMessageDeflate: false, skipUTF8Validation: true });
    const client = new RawWsClient(ws);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(client);
      };
      const timer = setTimeout(done, timeoutMs);
      ws.once('open', done);
      ws.once('close', done);
    });
  }

  /** Opens and completes the Socket.IO CONNECT with `token`; resolves after `connected`. */
  static async connect(base: string, token: string): Promise<RawWsClient> {
    const client = await RawWsClient.open(base);
    const greeting = await client.handshake(token);
    if (!greeting) {
      client.terminate();
      throw new Error(`socket.io connect refused: ${client.frames.find((f) => typeof f === 'string' && f.startsWith('44')) ?? 'closed'}`);
    }
    return client;
  }

  /** Sends `40{"token"}` and waits for the `connected` event; undefined when refused or closed. */
  handshake(token: string, timeoutMs = 3000): Promise<Greeting | undefined> {
    return this.handshakeWith(JSON.stringify({ token }), timeoutMs);
  }

  /** Sends `40<authJson>` as it is (any JSON text) and waits for `connected`. */
  async handshakeWith(authJson: string, timeoutMs = 3000): Promise<Greeting | undefined> {
    if (!this.sendText(`40${authJson}`)) return undefined;
    const ack = await this.next((f) => typeof f === 'string' && (f.startsWith('40') || f.startsWith('44')), timeoutMs);
    if (typeof ack !== 'string' || !ack.startsWith('40')) return undefined;
    const connected = await this.next((f) => typeof f === 'string' && f.startsWith('42["connected"'), timeoutMs);
    if (typeof connected !== 'string') return undefined;
    return { sid: (JSON.parse(ack.slice(2)) as { sid: string }).sid, user_id: (JSON.parse(connected.slice(2)) as [string, Greeting])[1].user_id };
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a text frame; false when the socket is not open. */
  sendText(text: string): boolean {
    return this.sendRaw(text, false);
  }

  /** Sends a binary frame (an Engine.IO binary message, e.g. a Socket.IO attachment). */
  sendBinary(data: Buffer): boolean {
    return this.sendRaw(data, true);
  }

  /** Sends `bytes` in a *text* frame as they are, valid UTF-8 or not. */
  sendTextBytes(bytes: Buffer): boolean {
    return this.sendRaw(bytes, false);
  }

  /** Sends one message as `parts.length` websocket fragments (continuation frames). */
  sendFragmented(parts: Buffer[], binary = false): boolean {
    if (!this.isOpen) return false;
    parts.forEach((p, i) => this.ws.send(p, { binary, fin: i === parts.length - 1, compress: false }, () => undefined));
    return true;
  }

  /** Sends several frames in one TCP write, so the server reads them in one go. */
  sendTogether(frames: Array<{ data: string | Buffer; binary?: boolean }>): boolean {
    if (!this.isOpen) return false;
    const tcp = (this.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    tcp.cork();
    for (const f of frames) this.ws.send(f.data, { binary: f.binary ?? false, compress: false }, () => undefined);
    process.nextTick(() => tcp.uncork());
    return true;
  }

  /** Emits a Socket.IO event `42[...]`; with `ack` true, `42<id>[...]` and returns the ack id. */
  emit(event: unknown, payload?: unknown, ack = false): number | undefined {
    const id = ack ? this.nextAck++ : undefined;
    const args = payload === undefined ? [event] : [event, payload];
    this.sendText(`42${id ?? ''}${JSON.stringify(args)}`);
    return id;
  }

  /** Emits an event with an ack and waits for `43<id>[body]`. */
  async request(event: unknown, payload?: unknown, timeoutMs = 3000): Promise<Outcome<any>> {
    const id = this.emit(event, payload, true)!;
    return this.ackOf(id, timeoutMs);
  }

  /** Waits for the ack `43<id>[body]` of an event sent with ack id `id`. */
  async ackOf(id: number, timeoutMs = 3000): Promise<Outcome<any>> {
    const prefix = `43${id}[`;
    const frame = await this.next((f) => typeof f === 'string' && f.startsWith(prefix), timeoutMs);
    if (typeof frame === 'string') return { kind: 'answer', value: (JSON.parse(frame.slice(prefix.length - 1)) as unknown[])[0] };
    return this.closeInfo || !this.isOpen ? { kind: 'closed' } : { kind: 'timeout' };
  }

  /** A fresh ack id, for frames built by hand (`42<id>[...]`). */
  takeAckId(): number {
    return this.nextAck++;
  }

  /**
   * Resolves with the next frame (already received or arriving) matching `match`; undefined on
   * close or after `timeoutMs`. Frames are searched from the start, so a caller should match
   * on something unique (an ack id).
   */
  next(match: (frame: RawFrame) => boolean, timeoutMs = 3000): Promise<RawFrame | undefined> {
    const seen = this.frames.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.closeInfo) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        match,
        resolve: (f) => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(f);
        },
      };
      const timer = setTimeout(() => waiter.resolve(undefined), timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Resolves once the connection is closed (or after `timeoutMs`); true when closed. */
  async closed(timeoutMs = 3000): Promise<boolean> {
    if (this.closeInfo) return true;
    await this.next(() => false, timeoutMs);
    return this.closeInfo !== undefined;
  }

  /** Drops received frames (keeps memory flat on long runs). */
  forget(): void {
    this.frames.length = 0;
  }

  /** Closes politely. */
  close(): void {
    if (this.isOpen) this.ws.close(1000);
    else this.ws.terminate();
  }

  /** Drops the TCP connection. */
  terminate(): void {
    this.ws.terminate();
  }

  private sendRaw(data: string | Buffer, binary: boolean): boolean {
    if (!this.isOpen) return false;
    this.ws.send(data, { binary, compress: false }, () => undefined);
    return true;
  }

  private onFrame(frame: RawFrame): void {
    if (frame === '2') return void this.sendText('3');
    this.frames.push(frame);
    for (const w of [...this.waiters]) if (w.match(frame)) w.resolve(frame);
  }
}

/** What an HTTP exchange of the polling client ended with. */
export interface PollResult {
  status: number;
  /** Engine.IO packets of the body (split on the record separator). */
  packets: string[];
}

/** One raw Engine.IO long-polling session. */
export class RawPollingClient {
  private nextAck = 1;

  private constructor(
    private readonly base: string,
    readonly sid: string,
  ) {}

  /** Opens a polling session (GET handshake). */
  static async open(base: string): Promise<RawPollingClient> {
    const res = await fetch(engineUrl(base, 'polling'));
    const body = await res.text();
    if (res.status !== 200 || !body.startsWith('0')) throw new Error(`polling handshake failed: ${res.status} ${body.slice(0, 100)}`);
    return new RawPollingClient(base, (JSON.parse(body.slice(1)) as { sid: string }).sid);
  }

  /** Opens a session and completes the Socket.IO CONNECT with `token`. */
  static async connect(base: string, token: string): Promise<RawPollingClient> {
    const client = await RawPollingClient.open(base);
    const sent = await client.post(`40${JSON.stringify({ token })}`);
    if (sent.status !== 200) throw new Error(`polling connect POST answered ${sent.status}`);
    const seen: string[] = [];
    for (let i = 0; i < 3 && !seen.some((p) => p.startsWith('42["connected"')); i++) {
      seen.push(...(await client.poll()).packets);
    }
    if (!seen.some((p) => p.startsWith('42["connected"'))) throw new Error(`polling connect not greeted: ${seen.join(' | ').slice(0, 200)}`);
    return client;
  }

  /** The session URL, for requests built by hand. */
  get url(): string {
    return engineUrl(this.base, 'polling', `&sid=${encodeURIComponent(this.sid)}`);
  }

  /** POSTs `body` as it is (packets joined with the record separator by the caller). */
  async post(body: string | Buffer, headers: Record<string, string> = {}): Promise<PollResult> {
    return exchange(this.url, { method: 'POST', body, headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers } });
  }

  /** One long-poll GET; answers pings in it with a POST `3`. */
  async poll(timeoutMs = 3000): Promise<PollResult> {
    const result = await exchange(this.url, { method: 'GET' }, timeoutMs);
    if (result.packets.includes('2')) await this.post('3');
    return result;
  }

  /**
   * Emits `42<id>[event, payload]` and polls for its ack: `closed` when the session is gone
   * (the server answers 400 for an unknown sid), `timeout` when no ack came.
   */
  async request(event: unknown, payload?: unknown, polls = 3): Promise<Outcome<any>> {
    const id = this.nextAck++;
    return this.requestRaw(`42${id}${JSON.stringify(payload === undefined ? [event] : [event, payload])}`, id, polls);
  }

  /** Posts `frame`, an event frame built by hand with ack id `id`, and polls for its ack. */
  async requestRaw(frame: string, id: number, polls = 3): Promise<Outcome<any>> {
    const sent = await this.post(frame);
    if (sent.status !== 200) return { kind: 'closed' };
    const prefix = `43${id}[`;
    for (let i = 0; i < polls; i++) {
      const got = await this.poll();
      if (got.status !== 200) return { kind: 'closed' };
      const ack = got.packets.find((p) => p.startsWith(prefix));
      if (ack) return { kind: 'answer', value: (JSON.parse(ack.slice(prefix.length - 1)) as unknown[])[0] };
      if (got.packets.includes('1')) return { kind: 'closed' };
    }
    return { kind: 'timeout' };
  }

  /** A fresh ack id, for frames built by hand. */
  takeAckId(): number {
    return this.nextAck++;
  }

  /** Closes the session (Engine.IO close packet). */
  async close(): Promise<void> {
    await this.post('1').catch(() => undefined);
  }
}

/** One HTTP request; a network failure or timeout is status 0. */
async function exchange(url: string, init: RequestInit, timeoutMs = 3000): Promise<PollResult> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { status: res.status, packets: text === '' ? [] : text.split(RECORD_SEPARATOR) };
  } catch {
    return { status: 0, packets: [] };
  }
}

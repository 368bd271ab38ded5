import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { io as connectClient } from 'socket.io-client';
import winston from 'winston';
import { z } from 'zod';
import type { Gateway } from '../../../src/app.js';
import { ERROR_CODES, clientEvents, type ClientEventName } from '../../../src/contract/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { RawPollingClient, RawWsClient, type Outcome } from '../../support/rawClient.js';
import { startStack, type AuthStandIn, type ChatStandIn } from '../../support/stack.js';
import { rssMiB, seededRandom, type Intensity, type ScenarioResult } from '../scenario.js';

/**
 * Malformed traffic against a real in-process gateway: broken Engine.IO and Socket.IO packets,
 * oversize and invalid UTF-8 frames, prototype-polluting keys, wrong types, huge arrays, ids that
 * look like URLs, log-injection attempts, then seeded fuzzing of frames and HTTP requests. After
 * each family the gateway must still answer /health, carry a normal message end to end, and
 * must have sent nothing but expected requests to its services (and nothing to a decoy).
 */

/** Figure names shared by every family's table (and read by the mocha test). */
export const FIGURE = {
  sent: 'frames/payloads sent',
  crashes: 'crashes',
  unhandled: 'unhandled errors',
  healthFailed: 'health checks failed',
  normalFailed: 'normal-message failures after',
  outsideRoutes: 'service URLs outside the expected routes',
  decoyHits: 'decoy hits',
  pollution: 'prototype pollution found',
  memBefore: 'memory before (MiB)',
  memAfter: 'memory after (MiB)',
  duration: 'duration (s)',
  // Contract findings (figures that must be 0 by the contract, reported per family).
  oversizeAccepted: 'over-limit frames accepted',
  wrongTypeAccepted: 'wrong-type payloads accepted',
  wrongTypeUnanswered: 'wrong-type payloads without a contract failure',
  internalAnswers: 'answered INTERNAL',
  keyCollisions: 'distinct client_msg_ids answered with another message',
  foreignDeletes: "messages deleted by a user id other than the sender's",
  notVerbatim: 'hostile contents not stored verbatim',
  http5xx: 'HTTP 5xx answers',
  logLines: 'log lines',
  logUnparseable: 'log lines not one JSON object',
  logForged: 'forged log lines',
  logErrors: 'error-level log lines',
  noAckSent: 'without an ack: sent',
  noAckErrors: 'without an ack: error events',
} as const;

/** The name of the last result: totals over every family. */
export const SUMMARY_NAME = 'malformed: all families';

/** How much each family sends. */
interface Bounds {
  /** Repetitions of the hand-written frame lists. */
  repeat: number;
  fuzzFrames: number;
  fuzzHttp: number;
  /** Raw connections the fuzzed frames are spread over. */
  lanes: number;
  /** Binary frames sent after one binary-event header ("attachment bomb"). */
  bombFrames: number;
}

const BOUNDS: Record<Intensity, Bounds> = {
  test: { repeat: 1, fuzzFrames: 3000, fuzzHttp: 400, lanes: 8, bombFrames: 200 },
  report: { repeat: 5, fuzzFrames: 30000, fuzzHttp: 4000, lanes: 16, bombFrames: 2000 },
};

const SEED = 0xc0ffee;
const MAX_PAYLOAD_BYTES = 65536;
const API_KEY = 'malformed-scenario-key';
/** The gateway's, and its logger's (which is built before the gateway's configuration). */
const LOG_LEVEL = 'debug';
const INSTANCE_ID = 'malformed-scenario';
/** A log line an injection would forge; the log watch counts lines that parse to it. */
export const FORGED_MESSAGE = 'forged log line';
const FORGED_LINE = `\r\n{"level":"error","message":"${FORGED_MESSAGE}"}\r\n`;
/** Keys a polluted prototype would show. */
const POLLUTION_KEYS = ['polluted', 'isAdmin', 'pwned'];
const PROBE_TIMEOUT_MS = 1500;

/** The contract's client events, each with the fields of its payload, and its codes. */
const CONTRACT_EVENTS = Object.keys(clientEvents) as ClientEventName[];
type ContractEvent = ClientEventName;
const FIELDS_OF = Object.fromEntries(CONTRACT_EVENTS.map((e) => [e, payloadFields(clientEvents[e].payload)])) as Record<ContractEvent, PayloadFields>;
/** Every payload field of the contract, and the identity fields a client may (wrongly) claim. */
const CONTRACT_FIELDS = [...new Set([...Object.values(FIELDS_OF).flatMap((f) => [...f.fields, ...f.oneOf]), 'sender_id', 'user_id'])];
const CONTRACT_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

interface PayloadFields {
  /** Fields a payload may carry. */
  fields: string[];
  /** Fields of which a payload carries exactly one (`receiver_id | room_id`). */
  oneOf: string[];
}

/** The fields of a payload schema, read from its JSON Schema (the one the documents show). */
function payloadFields(schema: z.ZodType): PayloadFields {
  type Json = { properties?: Record<string, Json>; oneOf?: Array<{ required?: string[] }>; not?: object };
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  const oneOf = (json.oneOf ?? []).flatMap((o) => o.required ?? []);
  // A field whose schema is `not: {}` must be absent (`send_group_message`'s receiver_id).
  const allowed = Object.entries(json.properties ?? {}).filter(([, field]) => field.not === undefined || Object.keys(field.not).length > 0);
  return { fields: allowed.map(([f]) => f).filter((f) => !oneOf.includes(f)), oneOf };
}

// ---------------------------------------------------------------------------------------------
// The harness: services, a decoy, a gateway whose JSON log lines are read, process watchers.
// ---------------------------------------------------------------------------------------------

/** Counts JSON log lines as the gateway writes them and finds split or forged ones. */
export class LogWatch {
  lines = 0;
  unparseable = 0;
  forged = 0;
  errors = 0;
  readonly samples: string[] = [];
  readonly errorMessages = new Map<string, number>();
  private partial = '';
  readonly stream = new Writable({
    write: (chunk: Buffer | string, _encoding, done) => {
      this.take(chunk.toString());
      done();
    },
  });

  private take(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) this.line(line);
  }

  private line(line: string): void {
    this.lines++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || line.includes('\r')) {
      this.unparseable++;
      if (this.samples.length < 5) this.samples.push(line.slice(0, 200));
      return;
    }
    const entry = parsed as { level?: unknown; message?: unknown };
    if (entry.message === FORGED_MESSAGE) this.forged++;
    if (entry.level === 'error') {
      this.errors++;
      if (process.env.PRINT_LOG_ERRORS) console.error(line);
      const key = String(entry.message).slice(0, 80);
      this.errorMessages.set(key, (this.errorMessages.get(key) ?? 0) + 1);
    }
  }
}

/** A server that must never be called: ids in payloads name its address. */
interface Decoy {
  url: string;
  host: string;
  hits: number;
  close(): Promise<void>;
}

async function startDecoy(): Promise<Decoy> {
  const decoy = { hits: 0 } as Decoy;
  const server = http.createServer((req, res) => {
    decoy.hits++;
    req.resume();
    res.end('decoy');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  decoy.host = `127.0.0.1:${port}`;
  decoy.url = `http://${decoy.host}`;
  decoy.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return decoy;
}

/** Counts what would have crashed or polluted the process while the scenario runs. */
class ProcessWatch {
  unhandled = 0;
  readonly samples: string[] = [];
  private readonly prototypes: Array<[string, object, string[]]> = [
    ['Object.prototype', Object.prototype, Object.getOwnPropertyNames(Object.prototype)],
    ['Array.prototype', Array.prototype, Object.getOwnPropertyNames(Array.prototype)],
    ['Function.prototype', Function.prototype, Object.getOwnPropertyNames(Function.prototype)],
    ['String.prototype', String.prototype, Object.getOwnPropertyNames(String.prototype)],
  ];
  private readonly onError = (e: unknown) => {
    this.unhandled++;
    if (this.samples.length < 5) this.samples.push(String((e as Error)?.stack ?? e).slice(0, 300));
  };

  start(): void {
    process.on('unhandledRejection', this.onError);
    process.on('uncaughtException', this.onError);
  }

  stop(): void {
    process.off('unhandledRejection', this.onError);
    process.off('uncaughtException', this.onError);
  }

  /** Names of prototype keys that appeared, or pollution markers visible on a fresh object. */
  pollution(): string[] {
    const found: string[] = [];
    for (const [name, proto, keys] of this.prototypes) {
      for (const key of Object.getOwnPropertyNames(proto)) if (!keys.includes(key)) found.push(`${name}.${key}`);
    }
    const fresh = {} as Record<string, unknown>;
    for (const key of POLLUTION_KEYS) if (fresh[key] !== undefined) found.push(`({}).${key}`);
    return found;
  }
}

/** Everything the families use. */
interface Harness {
  url: string;
  gateway: Gateway;
  auth: AuthStandIn;
  chat: ChatStandIn;
  decoy: Decoy;
  logs: LogWatch;
  proc: ProcessWatch;
  rng: () => number;
  token(userId: string): string;
  /** A user id no other connection of the run uses. */
  user(prefix: string): string;
  /** A raw websocket client, connected (Socket.IO CONNECT done) as a fresh user. */
  raw(prefix: string): Promise<RawWsClient>;
  stop(): Promise<void>;
}

async function startHarness(): Promise<Harness> {
  const logs = new LogWatch();
  // The gateway's own format (redaction, JSON lines), written to a stream this scenario reads.
  const logger = createLogger({ level: LOG_LEVEL, service: 'malformed', instanceId: INSTANCE_ID });
  logger.clear().add(new winston.transports.Stream({ stream: logs.stream, eol: '\n' }));
  const stack = await startStack(
    {
      INSTANCE_ID,
      LOG_LEVEL,
      RATE_LIMIT_ENABLED: 'false',
      // Like the rate limits, the flood guard would disconnect a misbehaving socket before its
      // traffic reached the handlers this scenario is about.
      FLOOD_DISCONNECT_AFTER: '0',
      MAX_CONNECTIONS_PER_IP_PER_MIN: '10000000',
      MAX_SOCKETS_PER_USER: '1000',
      MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES),
      PUSH_API_KEYS: API_KEY,
      CHAT_SERVICE_TIMEOUT_MS: '2000',
      SHUTDOWN_TIMEOUT_MS: '2000',
    },
    { logger },
  );
  const { url, gateway, auth, chat } = stack;
  const decoy = await startDecoy();
  const proc = new ProcessWatch();
  proc.start();
  let users = 0;
  const token = (userId: string) => auth.issueToken(userId, 3600);
  const user = (prefix: string) => `${prefix}-${++users}`;
  return {
    url,
    gateway,
    auth,
    chat,
    decoy,
    logs,
    proc,
    rng: seededRandom(SEED),
    token,
    user,
    raw: (prefix) => RawWsClient.connect(url, token(user(prefix))),
    async stop() {
      await stack.stop();
      await decoy.close();
      logger.close();
      proc.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Checks after every family.
// ---------------------------------------------------------------------------------------------

/** Routes the gateway may call, by service: method and path of encoded segments. */
export const CHAT_ROUTES: Array<[string, RegExp]> = [
  ['POST', /^\/messages$/],
  ['POST', /^\/messages\/batch$/],
  ['POST', /^\/messages\/([^/]+)\/receipts$/],
  ['POST', /^\/receipts\/batch$/],
  ['DELETE', /^\/messages\/([^/]+)$/],
  ['GET', /^\/rooms\/([^/]+)\/members\/([^/]+)$/],
];
export const AUTH_ROUTES: Array<[string, RegExp]> = [
  ['POST', /^\/auth\/verify$/],
  ['PUT', /^\/users\/([^/]+)\/status$/],
  ['PUT', /^\/users\/status$/],
];

/** A path segment as `encodeURIComponent` writes it, and not a dot segment once decoded. */
function isEncodedSegment(segment: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return false;
  }
  return decoded !== '.' && decoded !== '..' && encodeURIComponent(decoded) === segment;
}

/** How many `requests` left the expected routes or went to another host. */
export function outsideRoutes(requests: ChatStandIn['requests'], routes: Array<[string, RegExp]>, host: string, notes: string[]): number {
  let outside = 0;
  for (const r of requests) {
    const route = routes.find(([method, path]) => method === r.method && path.test(r.path));
    const segments = route ? route[1].exec(r.path)!.slice(1) : [];
    if (!route || r.headers.host !== host || !segments.every(isEncodedSegment)) {
      outside++;
      note(notes, 'unexpected service request: ', `${r.method} ${r.path} (host ${String(r.headers.host)})`);
    }
  }
  return outside;
}

/** Counters as the previous checkpoint left them. */
interface Marks {
  decoy: number;
  unhandled: number;
  probes: number;
}

/** `/health`, a normal message end to end, the services' request logs, the decoy, the process. */
async function checkpoint(h: Harness, marks: Marks, notes: string[]): Promise<Record<string, number>> {
  let crashes = h.gateway.httpServer.listening ? 0 : 1;
  let healthFailed = 0;
  try {
    const res = await fetch(`${h.url}/health`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { status?: string };
    if (res.status !== 200 || body.status !== 'ok') healthFailed = 1;
  } catch (e) {
    healthFailed = 1;
    if ((e as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') crashes = 1;
  }
  const normalFailed = (await normalMessage(h, ++marks.probes, notes)) ? 0 : 1;
  const chatHost = new URL(h.chat.url).host;
  const authHost = new URL(h.auth.url).host;
  const outside =
    outsideRoutes(h.chat.requests, CHAT_ROUTES, chatHost, notes) + outsideRoutes(h.auth.requests, AUTH_ROUTES, authHost, notes);
  const pollution = h.proc.pollution();
  if (pollution.length > 0) notes.push(`prototype pollution: ${pollution.join(', ')}`);
  const figures = {
    [FIGURE.crashes]: crashes,
    [FIGURE.unhandled]: h.proc.unhandled - marks.unhandled,
    [FIGURE.healthFailed]: healthFailed,
    [FIGURE.normalFailed]: normalFailed,
    [FIGURE.outsideRoutes]: outside,
    [FIGURE.decoyHits]: h.decoy.hits - marks.decoy,
    [FIGURE.pollution]: pollution.length,
  };
  // Checked: the services' request logs are emptied so they do not weigh on the memory figures.
  h.chat.requests.length = 0;
  h.auth.requests.length = 0;
  h.auth.statusHistory.length = 0;
  Object.assign(marks, { decoy: h.decoy.hits, unhandled: h.proc.unhandled });
  return figures;
}

/** A real socket.io-client connects and sends a message: acked with the stored message, stored once. */
async function normalMessage(h: Harness, n: number, notes: string[]): Promise<boolean> {
  const socket = connectClient(h.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: h.token(`probe-${n}`) } });
  const content = `normal message ${n} ${Date.now()}`;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no connected event')), 3000);
      socket.once('connected', () => (clearTimeout(timer), resolve()));
      socket.once('connect_error', (e) => (clearTimeout(timer), reject(e)));
    });
    const ack = (await socket.timeout(3000).emitWithAck('send_message', { receiver_id: 'probe-peer', content, client_msg_id: `probe-${n}` })) as {
      ok: boolean;
      message?: { message_id: string; content: string };
    };
    const stored = [...h.chat.messages.values()].filter((m) => m.content === content);
    const good = ack.ok && ack.message?.content === content && stored.length === 1 && stored[0].message_id === ack.message.message_id;
    if (!good) notes.push(`normal message ${n} failed: ack ${JSON.stringify(ack).slice(0, 200)}, stored ${stored.length}`);
    return good;
  } catch (e) {
    notes.push(`normal message ${n} failed: ${(e as Error).message}`);
    return false;
  } finally {
    socket.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Small tools the families share.
// ---------------------------------------------------------------------------------------------

/** What a family did: its count of frames/payloads, its own figures, remarks. */
interface FamilyOutcome {
  sent: number;
  figures?: Record<string, number>;
  notes?: string[];
}

/** A frame on the wire: text, binary, or raw bytes in a text frame. */
type Wire = string | { binary: Buffer } | { textBytes: Buffer };

type Tally = Record<string, number>;
const bump = (t: Tally, key: string, n = 1) => void (t[key] = (t[key] ?? 0) + n);

function send(c: RawWsClient, w: Wire): boolean {
  if (typeof w === 'string') return c.sendText(w);
  return 'binary' in w ? c.sendBinary(w.binary) : c.sendTextBytes(w.textBytes);
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** After a malformed frame: did the connection still answer an event, get closed, or go silent? */
async function probe(c: RawWsClient): Promise<'answered' | 'closed' | 'silent'> {
  const r = await c.request('get_online_users', {}, PROBE_TIMEOUT_MS);
  return r.kind === 'answer' ? 'answered' : r.kind === 'closed' ? 'closed' : 'silent';
}

/** Sends `frames` on a fresh connected socket, then probes it; returns how many frames went out. */
async function framesThenProbe(h: Harness, frames: Wire[], tally: Tally, prefix: string): Promise<number> {
  const c = await h.raw(prefix);
  let sent = 0;
  for (const f of frames) if (send(c, f)) sent++;
  bump(tally, `connections ${await probe(c)} afterwards`);
  c.terminate();
  return sent;
}

/**
 * The error code of an ack outcome, `ok` for success, `malformed ack` for an answer outside the
 * contract's shape (section 2), or how it failed to come (`closed`, `timeout`).
 */
function ackCode(r: Outcome<any>): string {
  if (r.kind !== 'answer') return r.kind;
  const body = r.value as { ok?: unknown; error?: { code?: unknown; message?: unknown; retryable?: unknown } };
  if (body?.ok === true) return 'ok';
  const e = body?.error;
  const valid = body?.ok === false && CONTRACT_CODES.has(String(e?.code)) && typeof e?.message === 'string' && typeof e?.retryable === 'boolean';
  return valid ? String(e!.code) : 'malformed ack';
}

/** `encodeURIComponent`, with lone surrogates (which it refuses) replaced first. */
const encode = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, (c, i: number, all: string) => (isPaired(all, i) ? c : '\ufffd')));
function isPaired(s: string, i: number): boolean {
  const code = s.charCodeAt(i);
  return code < 0xdc00 ? (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 : (s.charCodeAt(i - 1) & 0xfc00) === 0xd800;
}
/** Adds a remark of `kind` unless 3 of that kind are noted already (remarks are examples, not logs). */
function note(notes: string[], kind: string, text: string): void {
  if (notes.filter((n) => n.startsWith(kind)).length < 3) notes.push(`${kind}${text}`);
}

const times = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));
const repeatList = <T>(list: readonly T[], n: number): T[] => times(n, () => list).flat();
const bytes = (...b: number[]) => Buffer.from(b);
const event = (name: string, payload?: unknown, ack?: number) => `42${ack ?? ''}${JSON.stringify(payload === undefined ? [name] : [name, payload])}`;

/** HTTP request that never throws: status 0 on a network failure. */
async function httpStatus(url: string, init: RequestInit = {}): Promise<number> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Families.
// ---------------------------------------------------------------------------------------------

/** Truncated and invalid Engine.IO packets, over websocket and over polling. */
async function engineIoPackets(h: Harness, b: Bounds): Promise<FamilyOutcome> {
  const tally: Tally = {};
  let sent = 0;
  const frames: Wire[] = [
    '4', '9', '42', '42[', '42["send_message"', '42["send_message",', '42["send_message",{', '4x', '', ' ', '\x1e',
    '2probe', '3probe', '5', '6', '2', '3', '1', '0', '0{}', '7', '8', '99999999["x"]', '9'.repeat(400),
    '4'.repeat(1000), `4${'2'.repeat(500)}["x"]`, `42${'['.repeat(50000)}`, `42${'['.repeat(30000)}${']'.repeat(30000)}`,
    '42["send_message",{"receiver_id":"x","content":"hi"}]\x1e42["x"]', { binary: bytes() }, { binary: bytes(4) }, { binary: bytes(0x34, 0x32) },
  ];
  for (const f of repeatList(frames, b.repeat)) sent += await framesThenProbe(h, [f], tally, 'eio');

  // Packets before the Socket.IO CONNECT, then the CONNECT.
  const early = ['42["send_message",{"receiver_id":"x","content":"too early"}]', '2probe', '5', '3', '6', '41', '43[1]', '4x'];
  for (const f of repeatList(early, b.repeat)) {
    const c = await RawWsClient.open(h.url);
    if (c.sendText(f)) sent++;
    bump(tally, (await c.handshake(h.token(h.user('early')), PROBE_TIMEOUT_MS)) ? 'connected after an early packet' : 'refused after an early packet');
    c.terminate();
  }

  // Polling: bad handshakes, bad bodies on a live session, overlapping polls, upgrade misuse.
  const badQueries = [
    'EIO=3&transport=polling', 'EIO=5&transport=polling', 'EIO=abc&transport=polling', 'transport=polling', 'EIO=4',
    'EIO=4&transport=flashsocket', 'EIO=4&transport=websocket', 'EIO=4&transport=polling&sid=unknown',
    'EIO=4&transport=polling&sid=..%2F..%2Fadmin', 'EIO=4&transport=polling&j=1', `EIO=4&transport=polling&t=${'x'.repeat(8000)}`,
    'EIO=4&EIO=4&transport=polling&transport=websocket', 'EIO[]=4&transport=polling', 'EIO=4&transport[]=polling', 'EIO=4&transport=polling&sid[]=x',
  ];
  for (const q of repeatList(badQueries, b.repeat)) {
    for (const method of ['GET', 'POST']) {
      const status = await httpStatus(`${h.url}/socket.io/?${q}`, method === 'POST' ? { method, body: '40' } : {});
      sent++;
      bump(tally, status >= 500 || status === 0 ? 'polling handshakes answered 5xx or not at all' : `polling handshakes answered ${Math.floor(status / 100)}xx`);
    }
  }
  const bodies: Array<string | Buffer> = [
    '4', '42[', '', 'x', '9', '\x1e\x1e', '42["get_online_users",{}]\x1e4', 'bAAAA', 'b!!!notbase64', '2probe', '5', '6', '41',
    '42/nsp,["x"]', '451-["send_message",{"_placeholder":true,"num":0}]\x1ebAQID', '451-["send_message",{"_placeholder":true,"num":0}]',
    '3'.repeat(1000), `42${'['.repeat(20000)}`,
  ];
  for (const body of repeatList(bodies, b.repeat)) {
    const p = await RawPollingClient.connect(h.url, h.token(h.user('poll')));
    await p.post(body);
    sent++;
    const r = await p.request('get_online_users', {});
    bump(tally, `polling sessions ${r.kind === 'answer' ? 'answered' : r.kind === 'closed' ? 'closed' : 'silent'} afterwards`);
    await p.close();
  }
  for (let i = 0; i < b.repeat * 3; i++) {
    const p = await RawPollingClient.connect(h.url, h.token(h.user('overlap')));
    const polls = await Promise.all([p.poll(1500), p.poll(1500)]);
    sent += 2;
    bump(tally, polls.some((r) => r.status !== 200) ? 'overlapping polls refused' : 'overlapping polls both answered');
  }
  const upgrades: Array<(ws: RawWsClient) => void> = [
    (ws) => ws.sendText('5'),
    (ws) => (ws.sendText('2probe'), ws.sendText('2probe'), ws.sendText('x')),
    (ws) => (ws.sendText('2probe'), ws.sendText('42["send_message",{}]')),
    (ws) => ws.sendBinary(bytes(1, 2, 3)),
  ];
  for (const misuse of repeatList(upgrades, b.repeat)) {
    const p = await RawPollingClient.connect(h.url, h.token(h.user('upgrade')));
    const ws = await RawWsClient.attach(h.url, `&sid=${encodeURIComponent(p.sid)}`);
    misuse(ws);
    sent++;
    bump(tally, (await ws.next((f) => f === '3probe', 300)) ? 'upgrade probes answered' : 'upgrade probes unanswered');
    ws.terminate();
    await p.close();
  }
  for (const q of ['&sid=unknown', '&sid=', `&sid=${'A'.repeat(5000)}`]) {
    const ws = await RawWsClient.attach(h.url, q);
    sent += ws.sendText('2probe') ? 1 : 0;
    bump(tally, (await ws.closed(1000)) ? 'upgrades with a bad sid refused' : 'upgrades with a bad sid kept open');
    ws.terminate();
  }
  return { sent, figures: tally };
}

/** Invalid Socket.IO packets, unknown namespaces, binary events with missing or extra attachments. */
async function socketIoPackets(h: Harness, b: Bounds): Promise<FamilyOutcome> {
  const tally: Tally = {};
  let sent = 0;
  const frames = [
    '45-["x"]', '46', '47', '48["x"]', '4{', '4[', '4-1', '4 ', '42/nsp,["send_message",{}]', '42/admin,["send_message",{}]', '42/,["x"]',
    '40/admin,{}', '40/../..,{}', `40/${'n'.repeat(2000)},{}`, '41/admin,', '43', '43abc', '4399[1]', '43-1[1]',
    `42${'9'.repeat(40)}["get_online_users",{}]`, '42-1["x"]', '421e5["x"]', '42NaN["x"]', '44', '44{"message":"x"}', '40',
    '42["connect"]', '42["connect_error"]', '42["disconnect"]', '42["disconnecting"]', '42["newListener"]', '42["removeListener"]',
    '42["error",{"message":"from the client"}]', '42["error"]', '42[null]', '42[{}]', '42[[]]', '42[true]', '42[1.5]', '42[-1]',
    '42["send_message",{},{},{}]', '42["send_message"]', '42[""]', `42["${'e'.repeat(10000)}"]`,
    '42["send_message",{"receiver_id":"x","content":"hi"},"extra"]', '421["send_message",{"receiver_id":"x","content":"hi"},"extra"]', '41',
  ];
  for (const f of repeatList(frames, b.repeat)) sent += await framesThenProbe(h, [f], tally, 'sio');
  for (let i = 0; i < b.repeat; i++) {
    // A second CONNECT on the same connection, as another user: never switches identity.
    const c = await h.raw('sio-twice');
    sent += c.sendText(`40${JSON.stringify({ token: h.token('someone-else') })}`) ? 1 : 0;
    const who = await c.request('get_online_users', { user_ids: ['someone-else'] }, PROBE_TIMEOUT_MS);
    bump(tally, who.kind === 'answer' && (who.value as { users?: string[] }).users?.includes('someone-else') ? 'second CONNECT switched identity' : 'second CONNECT ignored or refused');
    c.terminate();
  }

  const header = (attachments: number | string, payload: unknown, ack = '') => `45${attachments}-${ack}${JSON.stringify(['send_message', payload])}`;
  const placeholder = (num: number) => ({ _placeholder: true, num });
  const small = { binary: bytes(1, 2, 3) };
  const sequences: Wire[][] = [
    [header(1, placeholder(0))],
    [header(1, placeholder(0)), '42["get_online_users",{}]'],
    [header(1, placeholder(0)), small],
    [header(1, placeholder(0), '7'), small],
    [header(1, placeholder(0)), small, small],
    [header(1, placeholder(5)), small],
    [header(1, { content: placeholder(0), receiver_id: 'x' }), small],
    [header(1, { receiver_id: 'x', content: 'binary metadata', metadata: { b: placeholder(0) } }), small],
    [`451-${JSON.stringify(['get_online_users', { user_ids: placeholder(0) }])}`, small],
    [`461-${JSON.stringify([placeholder(0)])}`, small],
    ['4611-[1]', small],
    [header(10, times(10, placeholder)), ...times(10, () => ({ binary: Buffer.alloc(2 * MAX_PAYLOAD_BYTES - 64, 7) }))],
    [header(11, placeholder(0)), small],
    [header(1000, placeholder(0)), ...times(b.bombFrames, () => small)],
    [header('99999999999999999999999', placeholder(0)), small],
    [header(-1, placeholder(0)), small],
    [header(1, placeholder(0)), ...times(b.bombFrames, () => ({ binary: Buffer.alloc(1024, 1) }))],
    times(b.bombFrames, () => small),
    times(50, () => [header(1, placeholder(0)), small]).flat(),
  ];
  for (const seq of repeatList(sequences, b.repeat)) sent += await framesThenProbe(h, seq, tally, 'bin');
  return { sent, figures: tally };
}

/** Frames over the limits, over websocket and polling, and oversize HTTP bodies and headers. */
async function oversizeFrames(h: Harness, b: Bounds): Promise<FamilyOutcome> {
  const tally: Tally = {};
  const notes: string[] = [];
  let sent = 0;
  let accepted = 0;
  const big = (chars: number, fill = 'x') => ({ receiver_id: 'oversize-peer', content: 'big', metadata: { a: fill.repeat(chars) } });
  const over2x = 2 * MAX_PAYLOAD_BYTES + 1000;

  // Over twice the limit: the connection is closed (the frame is never read).
  const killers: Wire[] = [event('send_message', big(over2x)), { binary: Buffer.alloc(over2x, 1) }, event('x', 'é'.repeat(over2x / 2))];
  for (const f of repeatList(killers, b.repeat * 2)) {
    const c = await h.raw('huge');
    if (send(c, f)) sent++;
    bump(tally, (await c.closed(3000)) ? 'connections closed for a frame over 2x the limit' : 'connections kept after a frame over 2x the limit');
    c.terminate();
  }
  for (let i = 0; i < b.repeat; i++) {
    const c = await h.raw('fragments');
    const chunk = Buffer.alloc(4096, 0x61);
    if (c.sendFragmented([Buffer.from('42["x","'), ...times(Math.ceil(over2x / 4096), () => chunk), Buffer.from('"]')])) sent++;
    bump(tally, (await c.closed(3000)) ? 'connections closed for fragments over 2x the limit' : 'connections kept after fragments over 2x the limit');
    c.terminate();
  }

  // Between the limit and twice it: PAYLOAD_TOO_LARGE, however the frame is built.
  const overLimit: Array<[string, (c: RawWsClient) => Promise<Outcome<any>>]> = [
    ['ascii', (c) => c.request('send_message', big(MAX_PAYLOAD_BYTES + 1000))],
    ['multi-byte (bytes over the limit, characters under it)', (c) => c.request('send_message', big(Math.ceil((MAX_PAYLOAD_BYTES * 1.5) / 2), 'é'))],
    ['followed by a small frame in the same read', async (c) => {
      const [bigId, smallId] = [c.takeAckId(), c.takeAckId()];
      c.sendTogether([{ data: event('send_message', big(MAX_PAYLOAD_BYTES + 1000), bigId) }, { data: event('get_online_users', {}, smallId) }]);
      return c.ackOf(bigId);
    }],
  ];
  for (const [how, sendIt] of repeatList(overLimit, b.repeat * 3)) {
    const c = await h.raw('over-limit');
    const code = ackCode(await sendIt(c));
    sent++;
    bump(tally, `over-limit frames answered ${code}`);
    if (code === 'ok') {
      accepted++;
      const remark = `a frame over MAX_PAYLOAD_BYTES was accepted and stored: ${how}`;
      if (!notes.includes(remark)) notes.push(remark);
    }
    c.terminate();
  }
  {
    // Many frames just under twice the limit on one connection (memory stays bounded).
    const c = await h.raw('near-2x');
    for (let i = 0; i < 20 * b.repeat; i++) {
      const code = ackCode(await c.request('send_message', big(2 * MAX_PAYLOAD_BYTES - 300)));
      sent++;
      bump(tally, `near-2x frames answered ${code}`);
      if (code === 'ok') accepted++;
    }
    c.terminate();
  }

  // Polling: bodies over 2x the limit get 413; between, PAYLOAD_TOO_LARGE.
  for (let i = 0; i < b.repeat * 3; i++) {
    const p = await RawPollingClient.connect(h.url, h.token(h.user('poll-big')));
    const huge = await p.post(event('send_message', big(over2x)));
    sent++;
    bump(tally, `polling bodies over 2x the limit answered ${huge.status}`);
    const q = await RawPollingClient.connect(h.url, h.token(h.user('poll-over')));
    const code = ackCode(await q.request('send_message', big(MAX_PAYLOAD_BYTES + 1000)));
    sent++;
    bump(tally, `polling frames over the limit answered ${code}`);
    if (code === 'ok') accepted++;
    await Promise.all([p.close(), q.close()]);
  }

  // HTTP: oversize bodies, headers and URLs.
  const apiBody = JSON.stringify({ user_ids: ['x'], event: 'big_event', data: 'x'.repeat(MAX_PAYLOAD_BYTES + 1000) });
  const httpCases: Array<[string, string, RequestInit]> = [
    ['push over the limit, with key', '/api/v1/push', { method: 'POST', body: apiBody, headers: { 'content-type': 'application/json', 'x-api-key': API_KEY } }],
    ['push over the limit, without key', '/api/v1/push', { method: 'POST', body: apiBody, headers: { 'content-type': 'application/json' } }],
    ['broadcast of 2 MB', '/api/v1/broadcast', { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024), headers: { 'content-type': 'application/json', 'x-api-key': API_KEY } }],
    ['health with a 20 kB header', '/health', { headers: { 'x-big': 'x'.repeat(20_000) } }],
    ['health with a 100 kB URL', `/health?x=${'x'.repeat(100_000)}`, {}],
    ['engine.io with a 100 kB URL', `/socket.io/?EIO=4&transport=polling&x=${'x'.repeat(100_000)}`, {}],
  ];
  for (const [what, path, init] of repeatList(httpCases, b.repeat)) {
    const status = await httpStatus(`${h.url}${path}`, init);
    sent++;
    bump(tally, `HTTP ${what}: ${status}`);
  }
  return { sent, figures: { ...tally, [FIGURE.oversizeAccepted]: accepted }, notes };
}

const INVALID_UTF8 = [
  bytes(0xff), bytes(0xfe), bytes(0xc3, 0x28), bytes(0xa0, 0xa1), bytes(0xe2, 0x28, 0xa1), bytes(0xe2, 0x82, 0x28),
  bytes(0xf0, 0x28, 0x8c, 0xbc), bytes(0xf0, 0x90, 0x28, 0xbc), bytes(0xc0, 0xaf), bytes(0xed, 0xa0, 0x80),
  bytes(0xf4, 0x90, 0x80, 0x80), bytes(0xe2, 0x82),
];

/** Invalid UTF-8 in text frames, in binary frames and in polling bodies. */
async function invalidUtf8(h: Harness, b: Bounds): Promise<FamilyOutcome> {
  const tally: Tally = {};
  let sent = 0;
  const inContent = (seq: Buffer) => Buffer.concat([Buffer.from('42["send_message",{"receiver_id":"utf8-peer","content":"'), seq, Buffer.from('"}]')]);
  for (const seq of repeatList(INVALID_UTF8, b.repeat)) {
    sent += await framesThenProbe(h, [{ textBytes: inContent(seq) }], tally, 'utf8-text');
    sent += await framesThenProbe(h, [{ textBytes: Buffer.concat([bytes(0x34), seq]) }], tally, 'utf8-bare');
    sent += await framesThenProbe(h, [{ binary: inContent(seq) }], tally, 'utf8-binary');
    sent += await framesThenProbe(h, ['451-["send_message",{"_placeholder":true,"num":0}]', { binary: seq }], tally, 'utf8-attachment');
    const p = await RawPollingClient.connect(h.url, h.token(h.user('utf8-poll')));
    await p.post(inContent(seq));
    sent++;
    const r = await p.request('get_online_users', {});
    bump(tally, `polling sessions ${r.kind === 'answer' ? 'answered' : r.kind} after invalid UTF-8`);
    await p.close();
  }
  // Lone surrogates as JSON escapes (valid UTF-8 text, invalid Unicode strings).
  const c = await h.raw('surrogates');
  for (const text of repeatList(['\ud800', '\udfff', 'a\ud800b', '\udc00\ud800'], b.repeat)) {
    bump(tally, `lone-surrogate contents answered ${ackCode(await c.request('send_message', { receiver_id: 'utf8-peer', content: text }))}`);
    sent++;
  }
  c.terminate();
  return { sent, figures: tally };
}

/** `__proto__`, `constructor` and `prototype` keys everywhere a client or backend can put them. */
async function prototypeKeys(h: Harness, b: Bounds): Promise<FamilyOutcome> {
  const tally: Tally = {};
  const notes: string[] = [];
  let sent = 0;
  const poison = '"__proto__":{"polluted":"yes","isAdmin":true},"constructor":{"prototype":{"pwned":"yes"}},"prototype":{"polluted":"yes"}';
  /** A valid-looking body per event; an event without one (a new one) gets a harmless field. */
  const known: Partial<Record<ContractEvent, string>> = {
    send_message: '"receiver_id":"proto-peer","content":"proto"',
    send_group_message: '"room_id":"proto-room","content":"proto"',
    join_room: '"room_id":"proto-room"',
    leave_room: '"room_id":"proto-room"',
    typing: '"receiver_id":"proto-peer"',
    stop_typing: '"receiver_id":"proto-peer"',
    message_delivered: '"message_id":"m_x"',
    message_read: '"message_id":"m_x"',
    message_read_status: '"message_id":"m_x"',
    delete_message: '"message_id":"m_x"',
    get_online_users: '"user_ids":["__proto__","constructor","prototype"]',
    presence_subscribe: '"user_ids":["__proto__","constructor","prototype","toString","hasOwnProperty"]',
    presence_unsubscribe: '"user_ids":["__proto__","constructor"]',
    refresh_token: '"token":"x"',
  };
  const bases = Object.fromEntries(CONTRACT_EVENTS.map((e) => [e, known[e] ?? '"unlisted":0']));
  const c = await h.raw('proto');
  const answer = async (frameFor: (id: number) => string) => {
    const id = c.takeAckId();
    c.sendText(frameFor(id));
    sent++;
    bump(tally, `answered ${ackCode(await c.ackOf(id))}`);
  };
  for (let r = 0; r < b.repeat; r++) {
    for (const [name, base] of Object.entries(bases)) {
      await answer((id) => `42${id}["${name}",{${poison},${base}}]`);
      await answer((id) => `42${id}["${name}",{${base},"metadata":{${poison}},"nested":{"a":{${poison}}}}]`);
      await answer((id) => `42${id}["${name}",{"__proto__":${JSON.stringify(JSON.parse(`{${base}}`))}}]`);
      await answer((id) => `42${id}["${name}",[{${poison}}]]`);
    }
    await answer((id) => `42${id}["__proto__",{${poison}}]`);
    await answer((id) => `42${id}["constructor",{${poison}}]`);
  }
  c.terminate();
  // The CONNECT auth payload, and users whose ids are prototype keys.
  for (const name of repeatList(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'], b.repeat)) {
    const ws = await RawWsClient.open(h.url);
    const greeting = await ws.handshakeWith(`{${poison},"token":"${h.token(name)}"}`);
    sent++;
    bump(tally, greeting?.user_id === name ? 'prototype-named users connected' : 'prototype-named users refused');
    if (greeting) {
      bump(tally, `prototype-named users' messages answered ${ackCode(await ws.request('send_message', { receiver_id: 'constructor', content: `from ${name}` }))}`);
      bump(tally, `prototype-named users' presence answered ${ackCode(await ws.request('presence_subscribe', { user_ids: [name, '__proto__'] }))}`);
      sent += 2;
    }
    ws.terminate();
  }
  // The backend API.
  const apiBodies = [
    `{${poison},"user_ids":["__proto__"],"event":"proto_event","data":{${poison}}}`,
    `{"event":"proto_event","data":{${poison}},${poison}}`,
    `{${poison}}`,
    `{"reason":"x",${poison}}`,
  ];
  const apiPaths = ['/api/v1/push', '/api/v1/broadcast', '/api/v1/users/__proto__/disconnect', '/api/v1/users/constructor/disconnect'];
  for (const path of repeatList(apiPaths, b.repeat)) {
    for (const body of apiBodies) {
      const status = await httpStatus(`${h.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-api-key': API_KEY } });
      sent++;
      bump(tally, `API answers ${status}`);
    }
  }
  for (const q of ['user_ids=__proto__,constructor', '__proto__[polluted]=yes&user_ids=a', 'user_ids[__proto__]=x', 'constructor[prototype][pwned]=yes&user_ids=a']) {
    const status = await httpStatus(`${h.url}/api/v1/presence?${q}`, { headers: { 'x-api-key': API_KEY } });
    sent++;
    bump(tally, `API answers ${status}`);
  }
  const pollution = h.proc.pollution();
  if (pollution.length) notes.push(`polluted: ${pollution.join(', ')}`);
  return { sent, figures: tally, notes };
}

/** Wrong JSON types for every field of every contract event, with and without an ack. */
async function wrongTypes(h: Harness, b: Bounds): Promise<FamilyOutcome> {
  const tally: Tally = {};
  const notes: string[] = [];
  let sent = 0;
  let accepted = 0;
  let internal = 0;
  let unanswered = 0;
  const userId = h.user('types');
  h.chat.addRoom('types-room', [userId]);
  const c0 = await RawWsClient.connect(h.url, h.token(userId));
  const stored = await c0.request('send_message', { receiver_id: 'types-peer', content: 'to be typed at' });
  const messageId = stored.kind === 'answer' ? String((stored.value as { message?: { message_id?: string } }).message?.message_id) : 'm_none';
  c0.terminate();

  const long = 'x'.repeat(10_000);
  const deep = { a: { b: { c: { d: [1, { e: null }] } } } };
  const notString = [0, -1, 1.5, 1e308, true, false, null, [], ['x'], {}, deep, [long]];
  const strings = [...notString, long];
  const notRecord = [0, true, null, [], ['x'], 'a string', long];
  const notList = [0, true, null, 'a', {}, deep, [0], [null], [{}], [['x']], [long], [true], long];
  type Base = { event: ContractEvent; payload: Record<string, unknown>; wrong: Record<string, unknown[]> };
  const target = { receiver_id: strings, room_id: strings };
  const bases: Base[] = [
    {
      event: 'send_message',
      payload: { receiver_id: 'types-peer', content: 'hi', message_type: 'text', client_msg_id: 'c1', reply_to: 'm_prev', metadata: { a: 1 } },
      wrong: { receiver_id: strings, content: [...strings, '', '   '], message_type: [...strings, 'not-a-type'], client_msg_id: [...strings, ''], reply_to: strings, metadata: notRecord },
    },
    { event: 'send_message', payload: { room_id: 'types-room', content: 'hi' }, wrong: { room_id: strings } },
    { event: 'send_group_message', payload: { room_id: 'types-room', content: 'hi' }, wrong: { room_id: strings, content: strings, metadata: notRecord } },
    { event: 'join_room', payload: { room_id: 'types-room' }, wrong: { room_id: strings } },
    { event: 'leave_room', payload: { room_id: 'types-room' }, wrong: { room_id: strings } },
    { event: 'typing', payload: { receiver_id: 'types-peer' }, wrong: target },
    { event: 'stop_typing', payload: { room_id: 'types-room' }, wrong: target },
    ...(['message_delivered', 'message_read', 'message_read_status', 'delete_message'] as const).map((e) => ({
      event: e,
      payload: { message_id: messageId },
      wrong: { message_id: strings },
    })),
    { event: 'get_online_users', payload: { user_ids: ['a'] }, wrong: { user_ids: notList } },
    { event: 'presence_subscribe', payload: { user_ids: ['a'] }, wrong: { user_ids: notList } },
    { event: 'presence_unsubscribe', payload: { user_ids: ['a'] }, wrong: { user_ids: notList } },
    { event: 'refresh_token', payload: { token: h.token(userId) }, wrong: { token: [...notString, 'x'.repeat(9000)] } },
  ];
  const cases: Array<{ event: ContractEvent; payload: unknown; what: string }> = [];
  for (const base of bases) {
    for (const [field, values] of Object.entries(base.wrong)) {
      for (const v of values) cases.push({ event: base.event, payload: { ...base.payload, [field]: v }, what: `${base.event}.${field}=${JSON.stringify(v).slice(0, 40)}` });
    }
    for (const field of ['sender_id', 'user_id']) {
      for (const v of [...notString, long, 'someone-else']) cases.push({ event: base.event, payload: { ...base.payload, [field]: v }, what: `${base.event}.${field}` });
    }
    for (const v of [0, 'a string', ['x'], null, true, [base.payload]]) cases.push({ event: base.event, payload: v, what: `${base.event} payload ${JSON.stringify(v).slice(0, 40)}` });
  }

  let c = await RawWsClient.connect(h.url, h.token(userId));
  for (const x of repeatList(cases, b.repeat)) {
    if (!c.isOpen) c = await RawWsClient.connect(h.url, h.token(userId));
    const code = ackCode(await c.request(x.event, x.payload));
    sent++;
    bump(tally, `with an ack: answered ${code}`);
    if (code === 'ok') {
      accepted++;
      note(notes, 'accepted: ', x.what);
    }
    if (code === 'INTERNAL') {
      internal++;
      note(notes, 'INTERNAL: ', x.what);
    }
    if (code === 'closed' || code === 'timeout' || code === 'malformed ack') {
      unanswered++;
      note(notes, `${code}: `, `${x.what} (${JSON.stringify(c.closeInfo)})`);
    }
  }
  // Without an ack, each failure is an `error` event naming the event.
  c.forget();
  let withoutAck = 0;
  for (const x of repeatList(cases, b.repeat)) {
    if (!c.isOpen) break;
    c.sendText(event(x.event, x.payload));
    withoutAck++;
  }
  sent += withoutAck;
  await c.request('get_online_users', {}, 5000);
  const errorsSeen = c.frames.filter((f) => typeof f === 'string' && f.startsWith('42["error"')).length;
  bump(tally, FIGURE.noAckSent, withoutAck);
  bump(tally, FIGURE.noAckErrors, errorsSeen);
  c.terminate();
  return {
    sent,
    figures: { ...tally, [FIGURE.wrongTypeAccepted]: accepted, [FIGURE.wrongTypeUnanswered]: unanswered, [FIGURE.internalAnswers]: internal },
    notes,
  };
}

/** Huge id lists for the presence events, over websocket and polling. */
async function hugeArrays(h: Harness, b: Bounds): Promise<FamilyOutcome> {
  const tally: Tally = {};
  let sent = 0;
  // Short ids (base 36) keep lists of thousands under MAX_PAYLOAD_BYTES, so validation sees them.
  const ids = (n: number, distinct = true) => times(n, (i) => (distinct ? i.toString(36) : 'u'));
  const events = ['get_online_users', 'presence_subscribe', 'presence_unsubscribe'];
  for (let r = 0; r < b.repeat; r++) {
    for (const name of events) {
      const c = await h.raw('arrays');
      const huge = await c.request(name, { user_ids: ids(100_000) }, 3000);
      sent++;
      bump(tally, `100k ids over websocket: ${ackCode(huge)}`);
      c.terminate();
      const d = await h.raw('arrays');
      for (const [n, distinct] of [[1001, true], [5000, true], [9000, true], [15000, false], [1000, true]] as const) {
        const code = ackCode(await d.request(name, { user_ids: ids(n, distinct) }));
        sent++;
        bump(tally, `${n} ${distinct ? 'distinct' : 'equal'} ids: ${code}`);
      }
      const more = await d.request(name, { user_ids: times(1000, (i) => `v${i}`) });
      sent++;
      bump(tally, `a second 1000 ids on one socket: ${ackCode(more)}`);
      d.terminate();
      const p = await RawPollingClient.connect(h.url, h.token(h.user('arrays-poll')));
      const polled = await p.request(name, { user_ids: ids(100_000) });
      sent++;
      bump(tally, `100k ids over polling: ${ackCode(polled)}`);
      await p.close();
    }
    const c = await h.raw('arrays-meta');
    const code = ackCode(await c.request('send_message', { receiver_id: 'arrays-peer', content: 'x', metadata: { a: times(25_000, () => 0) } }));
    sent++;
    bump(tally, `metadata with 25k items: ${code}`);
    c.terminate();
  }
  return { sent, figures: tally };
}

/** Ids shaped like URLs, paths and headers, in every field that reaches a service URL or header. */
async function pathLikeIds(h: Harness, b: Bounds): Promise<FamilyOutcome> {
  const tally: Tally = {};
  const notes: string[] = [];
  let sent = 0;
  let internal = 0;
  const d = h.decoy.host;
  const hostile = [
    '../', '..', '.', '../../admin', '..%2F', '%2e%2e', '%2e%2e%2fadmin', '.%2e', '%2F', '/', '//evil.com/x', `http://${d}/x`, `//${d}/x`,
    d, `@${d}`, `http:\\\\${d}\\x`, '\\', '\\..\\..\\admin', '?x=1', '#frag', 'a?b=c#d', '\u2024\u2024', '\uff0e\uff0e', '\u3002\u3002',
    'a/../../b', 'messages/../rooms', '%', '%zz', ' ', '\t', `a\r\nHost: ${d}`, `a%0d%0aHost:%20${d}`, '\u0000', '~', '..;/', ';', '*',
    'x'.repeat(128), '\ud800', `${FORGED_LINE}`,
  ];
  const userId = h.user('paths');
  const c = await RawWsClient.connect(h.url, h.token(userId));
  const ask = async (name: string, payload: unknown) => {
    const code = ackCode(await c.request(name, payload));
    sent++;
    bump(tally, `answered ${code}`);
    if (code === 'INTERNAL') {
      internal++;
      note(notes, 'INTERNAL for ', `${name} ${JSON.stringify(payload).slice(0, 80)}`);
    }
  };
  for (const id of repeatList(hostile, b.repeat)) {
    for (const name of ['message_delivered', 'message_read', 'message_read_status', 'delete_message']) await ask(name, { message_id: id });
    for (const name of ['join_room', 'leave_room', 'typing']) await ask(name, { room_id: id });
    await ask('send_message', { room_id: id, content: 'to a path-like room' });
    await ask('send_group_message', { room_id: id, content: 'to a path-like room' });
    await ask('send_message', { receiver_id: id, content: 'to a path-like user', reply_to: id, client_msg_id: id.slice(0, 64) || 'x' });
    await ask('typing', { receiver_id: id });
    await ask('presence_subscribe', { user_ids: [id] });
  }
  c.terminate();
  // Users whose token names a path-like id: their membership and status calls carry it.
  h.chat.addRoom('paths-room', ['nobody']);
  for (const id of repeatList(hostile.filter((x) => x.length > 0), b.repeat)) {
    const ws = await RawWsClient.open(h.url);
    const greeting = await ws.handshake(h.token(id));
    sent++;
    bump(tally, greeting ? 'path-like users connected' : 'path-like users refused');
    if (greeting) {
      bump(tally, `path-like users joining a room: ${ackCode(await ws.request('join_room', { room_id: 'paths-room' }))}`);
      bump(tally, `path-like users deleting: ${ackCode(await ws.request('delete_message', { message_id: 'm_x' }))}`);
      sent += 2;
    }
    ws.terminate();
  }
  // The backend API with the same ids in its path and query.
  for (const id of repeatList(hostile, b.repeat)) {
    const disconnect = await httpStatus(`${h.url}/api/v1/users/${encode(id)}/disconnect`, { method: 'POST', headers: { 'x-api-key': API_KEY } });
    const presence = await httpStatus(`${h.url}/api/v1/presence?user_ids=${encode(id)}`, { headers: { 'x-api-key': API_KEY } });
    sent += 2;
    bump(tally, `API answers ${disconnect}`);
    bump(tally, `API answers ${presence}`);
  }

  // Header values: client_msg_id becomes the Idempotency-Key, the user id X-User-Id.
  const sender = h.user('keys');
  const k = await RawWsClient.connect(h.url, h.token(sender));
  let collisions = 0;
  // Each pair: two distinct ids (a repeated id with the same content is a legitimate retry).
  const keyPairs = [['李', '😀'], ['k1', 'k1 '], ['k2', 'k2\n'], ['k3', ' k3'], ['k4', 'k4\u0000'], ['Ā', 'ĀĀ'], ['k5\r\nX-Injected: 1', 'k5X-Injected: 1']];
  for (const [first, second] of repeatList(keyPairs, b.repeat)) {
    for (const key of [first, second]) {
      const content = `keyed by ${JSON.stringify(key)}`;
      const r = await k.request('send_message', { receiver_id: 'keys-peer', content, client_msg_id: key });
      sent++;
      const got = r.kind === 'answer' ? (r.value as { message?: { content?: string } }).message?.content : undefined;
      if (r.kind === 'answer' && (r.value as { ok?: boolean }).ok && got !== content) {
        collisions++;
        note(notes, 'client_msg_id ', `${JSON.stringify(key)} was answered with the message of another id ("${got}")`);
      }
    }
  }
  k.terminate();
  let foreignDeletes = 0;
  for (const suffix of repeatList(['\t', ' ', '\u0000', '\u007f', '\u0001', '\r\n'], b.repeat)) {
    const victim = h.user('victim');
    const v = await RawWsClient.connect(h.url, h.token(victim));
    const message = await v.request('send_message', { receiver_id: 'keys-peer', content: 'written by the victim' });
    const messageId = message.kind === 'answer' ? (message.value as { message?: { message_id?: string } }).message?.message_id : undefined;
    v.terminate();
    if (!messageId) continue;
    // A user id a header cannot carry is refused at the handshake: that is the safe outcome.
    const m = await RawWsClient.connect(h.url, h.token(`${victim}${suffix}`)).catch(() => undefined);
    sent += 2;
    if (!m) {
      bump(tally, 'impostor user ids refused at the handshake');
      continue;
    }
    const del = await m.request('delete_message', { message_id: messageId });
    if (ackCode(del) === 'ok') {
      foreignDeletes++;
      note(notes, 'user ', `${JSON.stringify(victim + suffix)} deleted ${victim}'s message (X-User-Id is sanitized to "${victim}")`);
    }
    m.terminate();
  }
  return { sent, figures: { ...tally, [FIGURE.internalAnswers]: internal, [FIGURE.keyCollisions]: collisions, [FIGURE.foreignDeletes]: foreignDeletes }, notes };
}

/** CR/LF, markup and control characters in contents (stored verbatim) and wherever a log line could take them. */
async function injection(h: Harness, b: Bounds): Promise<FamilyOutcome> {
  const tally: Tally = {};
  const notes: string[] = [];
  let sent = 0;
  let notVerbatim = 0;
  const contents = [
    `hello${FORGED_LINE}world`, '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', 'line1\rline2\nline3\r\n', '\u202eevil\u202c',
    '\u0000nul\u0007bell', '{{7*7}} ${7*7}', `%0d%0a${FORGED_LINE}`, 'a\u2028b\u2029c', '😀 emoji', '\ud83d lone high', "'; DROP TABLE messages; --",
  ];
  const c = await h.raw('inject');
  const receiverId = h.user('inject-peer');
  const receiver = await RawWsClient.connect(h.url, h.token(receiverId));
  const sentContents: string[] = [];
  for (const content of repeatList(contents, b.repeat)) {
    const r = await c.request('send_message', { receiver_id: receiverId, content, client_msg_id: `inj-${sent}`, metadata: { note: content } });
    sentContents.push(content);
    sent++;
    const message = r.kind === 'answer' ? (r.value as { message?: { message_id: string; content: string } }).message : undefined;
    const stored = message ? h.chat.messages.get(message.message_id) : undefined;
    if (!message || message.content !== content || stored?.content !== content || (stored.metadata as { note?: string })?.note !== content) {
      notVerbatim++;
      note(notes, 'content ', `${JSON.stringify(content)} came back as ${JSON.stringify(message?.content)}, stored ${JSON.stringify(stored?.content)}`);
    }
  }
  await receiver.request('get_online_users', {});
  const relayed = receiver.frames
    .filter((f): f is string => typeof f === 'string' && f.startsWith('42["receive_message"'))
    .map((f) => (JSON.parse(f.slice(2)) as [string, { message: { content: string } }])[1].message.content);
  if (JSON.stringify(relayed) !== JSON.stringify(sentContents)) {
    notVerbatim++;
    notes.push(`the receiver got ${JSON.stringify(relayed).slice(0, 200)}`);
  }
  receiver.terminate();
  // Where client text can reach a log line: the `error` event listener, failing ids, unknown events, refresh tokens.
  for (let r = 0; r < b.repeat * 5; r++) {
    c.sendText(event('error', `client error${FORGED_LINE}`));
    c.sendText(event('error', { message: `client error${FORGED_LINE}`, stack: FORGED_LINE }));
    c.sendText(event(`unknown${FORGED_LINE}`, { x: FORGED_LINE }));
    c.sendText(event('refresh_token', { token: `bad${FORGED_LINE}` }));
    c.sendText(event('message_read', { message_id: `m${FORGED_LINE}` }));
    c.sendText(event('join_room', { room_id: `r${FORGED_LINE}` }));
    sent += 6;
  }
  bump(tally, `still answering: ${ackCode(await c.request('get_online_users', {}))}`);
  c.terminate();
  // A user id with CR/LF (from the token) is logged on connect and disconnect; so are API paths.
  for (let r = 0; r < b.repeat * 3; r++) {
    const ws = await RawWsClient.open(h.url);
    bump(tally, (await ws.handshake(h.token(`user${FORGED_LINE}${r}`))) ? 'CR/LF user ids connected' : 'CR/LF user ids refused');
    sent++;
    ws.terminate();
    const status = await httpStatus(`${h.url}/api/v1/users/${encode(`u${FORGED_LINE}`)}/disconnect`, {
      method: 'POST',
      body: JSON.stringify({ reason: `because${FORGED_LINE}` }),
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    });
    sent++;
    bump(tally, `API disconnect of a CR/LF user: ${status}`);
  }
  return { sent, figures: { ...tally, [FIGURE.notVerbatim]: notVerbatim }, notes };
}

// ---------------------------------------------------------------------------------------------
// Fuzzing from a fixed seed.
// ---------------------------------------------------------------------------------------------

const FUZZ_STRINGS = ['', ' ', 'x', 'fuzz-peer', '__proto__', 'constructor', '../', '..', '%2e%2e', '\r\n', '<script>', '😀', '\ud800', 'text', 'image', 'm_x', 'fuzz-room'];

/** Seeded generators of JSON values, event names and raw frames. */
class Fuzzer {
  constructor(readonly rng: () => number) {}

  int(n: number): number {
    return Math.floor(this.rng() * n);
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  chance(p: number): boolean {
    return this.rng() < p;
  }

  string(): string {
    const r = this.rng();
    if (r < 0.4) return this.pick(FUZZ_STRINGS);
    if (r < 0.7) return times(this.int(20), () => String.fromCharCode(32 + this.int(95))).join('');
    if (r < 0.9) return times(this.int(10), () => String.fromCharCode(this.int(0x3000))).join('');
    return 'y'.repeat(this.int(5000));
  }

  number(): number {
    return this.pick([0, -1, 1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 2 ** 53 + 1, this.int(1e6), -this.int(1e6) / 7]);
  }

  value(depth = 0): unknown {
    const r = this.rng();
    if (depth >= 4 || r < 0.45) {
      const s = this.rng();
      return s < 0.1 ? null : s < 0.2 ? this.chance(0.5) : s < 0.4 ? this.number() : this.string();
    }
    if (r < 0.6) return times(this.int(6), () => this.value(depth + 1));
    return this.object(depth);
  }

  object(depth = 0): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = this.int(6); i > 0; i--) out[this.chance(0.7) ? this.pick(CONTRACT_FIELDS) : this.string().slice(0, 20)] = this.value(depth + 1);
    return out;
  }

  eventName(): unknown {
    const r = this.rng();
    if (r < 0.7) return this.pick(CONTRACT_EVENTS);
    if (r < 0.9) return this.string().slice(0, 100);
    return this.number();
  }

  /** A payload that is a contract event's plausible shape with random values. */
  plausible(name: ContractEvent): Record<string, unknown> {
    const p: Record<string, unknown> = {};
    const { fields, oneOf } = FIELDS_OF[name];
    const chosen = oneOf.length > 0 ? [...fields, this.pick(oneOf)] : fields;
    for (const f of chosen) {
      if (this.chance(0.15)) continue;
      p[f] = f === 'user_ids' ? times(this.int(5), () => this.string()) : f === 'metadata' ? this.object(2) : this.chance(0.8) ? this.string() || 'x' : this.value(2);
    }
    return p;
  }

  /**
   * One frame for a connected raw client. `raw` frames are not well-formed events and usually
   * make the gateway close the connection.
   */
  frame(ackId: number): { wire: Wire; raw: boolean } {
    const r = this.rng();
    const id = this.chance(0.5) ? String(ackId) : '';
    if (r < 0.5) {
      const args = times(this.int(3), () => this.value(1));
      return { wire: `42${id}${JSON.stringify([this.eventName(), ...args])}`, raw: false };
    }
    if (r < 0.8) {
      const name = this.pick(CONTRACT_EVENTS);
      return { wire: `42${id}${JSON.stringify([name, this.plausible(name)])}`, raw: false };
    }
    const valid = `42${JSON.stringify([this.pick(CONTRACT_EVENTS), this.object(1)])}`;
    const k = this.rng();
    if (k < 0.3) return { wire: valid.slice(0, this.int(valid.length)), raw: true };
    if (k < 0.5) return { wire: `${this.int(10)}${this.string()}`, raw: true };
    if (k < 0.65) return { wire: { binary: Buffer.from(times(this.int(64), () => this.int(256))) }, raw: true };
    if (k < 0.8) return { wire: { textBytes: Buffer.from(times(1 + this.int(32), () => this.int(256))) }, raw: true };
    if (k < 0.9) return { wire: `45${this.int(12)}-${JSON.stringify([this.pick(CONTRACT_EVENTS), { _placeholder: true, num: this.int(3) }])}`, raw: true };
    return { wire: `4${this.int(10)}${this.chance(0.5) ? '/' + this.string().slice(0, 10) + ',' : ''}${JSON.stringify(this.value(1))}`, raw: true };
  }
}

/** Thousands of seeded frames spread over several raw connections, reconnecting when closed. */
async function fuzzFrames(h: Harness, b: Bounds): Promise<FamilyOutcome> {
  const tally: Tally = {};
  const fuzz = new Fuzzer(h.rng);
  // Frames are drawn up front, so the sequence depends on the seed only.
  const frames = times(b.fuzzFrames, (i) => fuzz.frame(1_000_000 + i));
  // Websocket lanes, and two lanes over long-polling.
  const lanes = b.lanes + 2;
  const perLane = Math.ceil(frames.length / lanes);
  let sent = 0;
  await eachLimited(times(lanes, (i) => i), lanes, async (lane) => {
    const userId = `fuzz-lane-${lane}`;
    const mine = frames.slice(lane * perLane, (lane + 1) * perLane);
    if (lane >= b.lanes) {
      const polled = await pollingLane(h, userId, mine, tally);
      sent += polled;
      return;
    }
    let c = await RawWsClient.connect(h.url, h.token(userId));
    for (let i = 0; i < mine.length; i++) {
      if (!c.isOpen) {
        c.terminate();
        bump(tally, 'reconnects after the gateway closed a connection');
        c = await RawWsClient.connect(h.url, h.token(userId));
      }
      if (send(c, mine[i].wire)) sent++;
      // A round trip after every raw frame (which may close the connection, dropping what
      // follows) and every 25 frames keeps the lane in step with the gateway.
      if (mine[i].raw || i % 25 === 24) {
        const r = await c.request('get_online_users', {}, 3000);
        bump(tally, `round trips ${r.kind === 'answer' ? 'answered' : r.kind}`);
        if (r.kind === 'timeout') c.terminate();
        c.forget();
      }
    }
    c.terminate();
  });
  return { sent, figures: tally };
}

/** Fuzzed frames over long-polling: batches of up to 10 packets per POST, a round trip after each. */
async function pollingLane(h: Harness, userId: string, frames: Array<{ wire: Wire; raw: boolean }>, tally: Tally): Promise<number> {
  const separator = Buffer.from('\x1e');
  const bytesOf = (w: Wire) => (typeof w === 'string' ? Buffer.from(w) : 'binary' in w ? Buffer.from(`b${w.binary.toString('base64')}`) : w.textBytes);
  let p = await RawPollingClient.connect(h.url, h.token(userId));
  let sent = 0;
  let batch: Wire[] = [];
  const flush = async () => {
    const body = Buffer.concat(batch.flatMap((w, i) => (i === 0 ? [bytesOf(w)] : [separator, bytesOf(w)])));
    const count = batch.length;
    batch = [];
    if ((await p.post(body)).status === 200) sent += count;
    const r = await p.request('get_online_users', {});
    bump(tally, `polling round trips ${r.kind === 'answer' ? 'answered' : r.kind}`);
    if (r.kind !== 'answer') {
      await p.close();
      bump(tally, 'polling reconnects');
      p = await RawPollingClient.connect(h.url, h.token(userId));
    }
  };
  for (const f of frames) {
    batch.push(f.wire);
    if (f.raw || batch.length === 10) await flush();
  }
  if (batch.length > 0) await flush();
  await p.close();
  return sent;
}

/** Seeded HTTP requests to every endpoint: random methods, paths, headers and bodies. */
async function fuzzHttp(h: Harness, b: Bounds): Promise<FamilyOutcome> {
  const tally: Tally = {};
  const notes: string[] = [];
  const fuzz = new Fuzzer(h.rng);
  const paths = () => [
    '/health', '/ready', '/metrics', '/api/v1/push', '/api/v1/broadcast', `/api/v1/users/${encode(fuzz.string())}/disconnect`,
    `/api/v1/presence?user_ids=${encode(fuzz.string())}`, '/api/v1/presence', '/api/v1/stats', '/api/v1/', '/api', '/socket.io/',
    `/socket.io/?EIO=4&transport=polling&sid=${encode(fuzz.string())}`, '/../../etc/passwd', '/%2e%2e/%2e%2e/', '//evil.com',
    `/health?x=${encode(fuzz.string())}`, '/metrics/../health', `/${encode(fuzz.string())}`, '/api/v1/push/../stats', '/API/V1/STATS',
  ];
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
  const contentTypes = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'application/json; charset=koi8-r', 'multipart/form-data; boundary=x', ''];
  const requests = times(b.fuzzHttp, () => {
    const method = fuzz.pick(methods);
    const headers: Record<string, string> = {};
    const key = fuzz.rng();
    if (key < 0.4) headers['x-api-key'] = API_KEY;
    else if (key < 0.6) headers['x-api-key'] = fuzz.string().replace(/[^\x20-\x7e]/g, '') || 'wrong';
    const type = fuzz.pick(contentTypes);
    if (type) headers['content-type'] = type;
    if (fuzz.chance(0.1)) headers['content-encoding'] = fuzz.pick(['gzip', 'deflate', 'br', 'identity', 'x-unknown']);
    if (fuzz.chance(0.1)) headers['x-forwarded-for'] = fuzz.pick(['1.2.3.4', 'not-an-ip', h.decoy.host]);
    if (fuzz.chance(0.05)) headers['x-forwarded-host'] = h.decoy.host;
    let body: string | Buffer | undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      const kind = fuzz.rng();
      const push = { user_ids: times(fuzz.int(3), () => fuzz.string()), room_ids: fuzz.chance(0.3) ? [fuzz.string()] : undefined, event: fuzz.chance(0.5) ? 'fuzz_event' : fuzz.string(), data: fuzz.value() };
      body =
        kind < 0.35 ? JSON.stringify(push)
        : kind < 0.6 ? JSON.stringify(fuzz.value())
        : kind < 0.75 ? JSON.stringify(push).slice(0, fuzz.int(40))
        : kind < 0.9 ? Buffer.from(times(fuzz.int(200), () => fuzz.int(256)))
        : '';
    }
    return { method, path: fuzz.pick(paths()), headers, body };
  });
  let sent = 0;
  let fiveHundreds = 0;
  await eachLimited(requests, 8, async (r) => {
    const status = await httpStatus(`${h.url}${r.path}`, { method: r.method, headers: r.headers, body: r.body });
    sent++;
    bump(tally, `answered ${status === 0 ? 'nothing' : `${Math.floor(status / 100)}xx`}`);
    if (status >= 500 || status === 0) {
      fiveHundreds++;
      note(notes, 'HTTP ', `${r.method} ${r.path.slice(0, 60)} ${JSON.stringify(r.headers)} → ${status}`);
    }
  });
  return { sent, figures: { ...tally, [FIGURE.http5xx]: fiveHundreds }, notes };
}

// ---------------------------------------------------------------------------------------------
// The run.
// ---------------------------------------------------------------------------------------------

const FAMILIES: Array<[string, (h: Harness, b: Bounds) => Promise<FamilyOutcome>]> = [
  ['malformed: Engine.IO packets', engineIoPackets],
  ['malformed: Socket.IO packets and binary attachments', socketIoPackets],
  ['malformed: oversize frames and bodies', oversizeFrames],
  ['malformed: invalid UTF-8', invalidUtf8],
  ['malformed: prototype-polluting keys', prototypeKeys],
  ['malformed: wrong types for every field', wrongTypes],
  ['malformed: huge arrays', hugeArrays],
  ['malformed: ids shaped like URLs, paths and headers', pathLikeIds],
  ['malformed: CR/LF and markup (storage and logs)', injection],
  ['malformed: fuzzed frames (seed 0xC0FFEE)', fuzzFrames],
  ['malformed: fuzzed HTTP requests (seed 0xC0FFEE)', fuzzHttp],
];

/** Runs every family against one in-process gateway; never throws on a bad figure. */
export async function run(intensity: Intensity): Promise<ScenarioResult[]> {
  const bounds = BOUNDS[intensity];
  const started = performance.now();
  const memStart = rssMiB();
  const h = await startHarness();
  const marks: Marks = { decoy: 0, unhandled: 0, probes: 0 };
  const results: ScenarioResult[] = [];
  const totals: Record<string, number> = {};
  try {
    for (const [name, family] of FAMILIES) {
      const t0 = performance.now();
      const memBefore = rssMiB();
      const notes: string[] = [];
      let outcome: FamilyOutcome;
      try {
        outcome = await family(h, bounds);
      } catch (e) {
        // A family that could not finish is reported, not thrown: the checks below still run.
        outcome = { sent: 0, notes: [`the family stopped early: ${(e as Error).stack?.slice(0, 300)}`] };
      }
      const checks = await checkpoint(h, marks, notes);
      const figures = {
        [FIGURE.sent]: outcome.sent,
        ...checks,
        ...outcome.figures,
        [FIGURE.memBefore]: memBefore,
        [FIGURE.memAfter]: rssMiB(),
        [FIGURE.duration]: Math.round((performance.now() - t0) / 100) / 10,
      };
      for (const [k, v] of Object.entries(figures)) if (typeof v === 'number' && k !== FIGURE.memBefore && k !== FIGURE.memAfter && k !== FIGURE.duration) totals[k] = (totals[k] ?? 0) + v;
      results.push({ name, figures, notes: [...(outcome.notes ?? []), ...notes] });
    }
  } finally {
    await h.stop().catch(() => undefined);
  }
  const summaryKeys = [
    FIGURE.sent, FIGURE.crashes, FIGURE.unhandled, FIGURE.healthFailed, FIGURE.normalFailed, FIGURE.outsideRoutes, FIGURE.decoyHits, FIGURE.pollution,
    FIGURE.oversizeAccepted, FIGURE.wrongTypeAccepted, FIGURE.internalAnswers, FIGURE.keyCollisions, FIGURE.foreignDeletes, FIGURE.notVerbatim, FIGURE.http5xx,
  ];
  const notes = [
    `seed 0x${SEED.toString(16).toUpperCase()}, intensity ${intensity}; MAX_PAYLOAD_BYTES ${MAX_PAYLOAD_BYTES}; rate limits off`,
    ...h.proc.samples.map((s) => `unhandled: ${s}`),
    ...h.logs.samples.map((s) => `log line not JSON: ${s}`),
    ...[...h.logs.errorMessages].map(([m, n]) => `error log "${m}" ×${n}`),
  ];
  results.push({
    name: SUMMARY_NAME,
    figures: {
      ...Object.fromEntries(summaryKeys.map((k) => [k, totals[k] ?? 0])),
      [FIGURE.unhandled]: h.proc.unhandled,
      [FIGURE.pollution]: h.proc.pollution().length,
      [FIGURE.logLines]: h.logs.lines,
      [FIGURE.logUnparseable]: h.logs.unparseable,
      [FIGURE.logForged]: h.logs.forged,
      [FIGURE.logErrors]: h.logs.errors,
      [FIGURE.memBefore]: memStart,
      [FIGURE.memAfter]: rssMiB(),
      [FIGURE.duration]: Math.round((performance.now() - started) / 100) / 10,
    },
    notes,
  });
  return results;
}

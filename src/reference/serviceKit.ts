import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import express from 'express';
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';

/** One request as a reference service saw it, after JSON body parsing. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** Epoch milliseconds. */
  at: number;
}

/** Error codes the reference services answer with, in `{ error: { code, message } }`. */
export type ServiceErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNAUTHORIZED'
  | 'AUTH_INVALID'
  | 'AUTH_EXPIRED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'INTERNAL';

/** A failed operation, before it becomes an HTTP answer (or a batch item). */
export interface Failure {
  ok: false;
  status: number;
  code: ServiceErrorCode;
  message: string;
}

/** The result of one operation: the status and body to answer with, or a failure. */
export type Outcome<T> = { ok: true; status: number; body: T } | Failure;

/** The result of validating an input. */
export type Parsed<T> = { ok: true; value: T } | Failure;

/** Builds a failure. */
export function fail(status: number, code: ServiceErrorCode, message: string): Failure {
  return { ok: false, status, code, message };
}

/** Builds a success. */
export function ok<T>(body: T, status = 200): Outcome<T> {
  return { ok: true, status, body };
}

/** Answers with `{ error: { code, message } }`. */
export function sendError(res: Response, status: number, code: ServiceErrorCode, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** Answers with an outcome: its body as JSON (none when undefined) on success, the error body on failure. */
export function sendOutcome<T>(res: Response, outcome: Outcome<T>): void {
  if (!outcome.ok) return sendError(res, outcome.status, outcome.code, outcome.message);
  res.status(outcome.status);
  if (outcome.body === undefined) res.end();
  else res.json(outcome.body);
}

/** Validates `raw` with a zod schema; a mismatch is a 400 VALIDATION_FAILED naming the fields. */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown): Parsed<z.output<S>> {
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  const message = result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
  return fail(400, 'VALIDATION_FAILED', message);
}

/** Validates `raw`, then runs `op` on the valid input: how single and batch endpoints share one code path. */
export function parseThen<S extends z.ZodType, T>(
  schema: S,
  raw: unknown,
  op: (input: z.output<S>) => Outcome<T>,
): Outcome<T> {
  const parsed = parseWith(schema, raw);
  return parsed.ok ? op(parsed.value) : parsed;
}

/** Ids accepted in URL paths: word characters, `.`, `@`, `:`, `-`, 1..128 long. */
export const PATH_ID_PATTERN = /^[\w.@:-]{1,128}$/;

/** Middleware that appends every request to `into`. Mount it after the JSON body parser. */
export function recordRequests(into: RecordedRequest[]): RequestHandler {
  return (req, _res, next) => {
    into.push({ method: req.method, path: req.path, headers: { ...req.headers }, body: req.body, at: Date.now() });
    next();
  };
}

/** Middleware that answers 401 unless the request carries `Authorization: Bearer {token}`; a no-op without a token. */
export function requireServiceToken(token: string | undefined): RequestHandler {
  if (token === undefined) return (_req, _res, next) => next();
  const expected = Buffer.from(`Bearer ${token}`);
  return (req, res, next) => {
    const given = Buffer.from(req.get('authorization') ?? '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    sendError(res, 401, 'UNAUTHORIZED', 'missing or wrong service token');
  };
}

/** A misbehaviour to inject into matching requests. The delay (if any) comes first, then the action. */
export interface Fault {
  /** Answer with this status instead of calling the real handler. Without it the request continues after the delay. */
  status?: number;
  /** Headers to set (also on the real handler's answer when `status` is absent). */
  headers?: Record<string, string>;
  /** Body sent with `status`: strings as they are, anything else as JSON. */
  body?: unknown;
  delayMs?: number;
  /** Never answer (until `FaultInjector.clear()` or the server closes; `release()` lets it go on to the real handler). */
  hang?: boolean;
  /** Destroy the TCP socket without answering. */
  destroy?: boolean;
  /** How many requests the fault applies to. @default Infinity */
  times?: number;
  /** Which requests it applies to. @default every request */
  match?: { method?: string; path?: RegExp };
}

interface ActiveFault extends Fault {
  remaining: number;
}

/** Holds injected faults and applies them to requests through its middleware. */
export class FaultInjector {
  private faults: ActiveFault[] = [];
  /** Requests held by a delay or a hang: their pending timer, and how they go on when released. */
  private readonly held = new Map<ServerResponse, { timer?: NodeJS.Timeout; resume: () => void }>();

  /** Adds a fault; the first matching fault (in order of addition) applies. */
  add(fault: Fault): this {
    this.faults.push({ ...fault, remaining: fault.times ?? Infinity });
    return this;
  }

  /** Requests held now; one whose client gave up and closed the connection is not. */
  get holding(): number {
    return this.held.size;
  }

  /** Removes every fault and releases held (hanging or delayed) requests by destroying their connections. */
  clear(): void {
    this.faults = [];
    for (const [res, { timer }] of this.held) {
      clearTimeout(timer);
      res.socket?.destroy();
    }
    this.held.clear();
  }

  /**
   * Removes every fault, like `clear()`, but lets held requests go on instead of dropping them:
   * a delayed one to its fault's action, a hanging one to the real handler. How a test decides
   * when held calls are answered.
   */
  release(): void {
    this.faults = [];
    const held = [...this.held.entries()];
    this.held.clear();
    for (const [res, { timer, resume }] of held) {
      clearTimeout(timer);
      if (!res.destroyed) resume();
    }
  }

  /** The middleware that applies faults; mount it before the routes. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const fault = this.take(req);
      if (!fault) return next();
      if (!fault.delayMs) return this.act(fault, res, next);
      const resume = () => this.act(fault, res, next);
      const timer = setTimeout(() => {
        if (this.unhold(res)) resume();
      }, fault.delayMs);
      this.hold(res, { timer, resume });
    };
  }

  private take(req: Request): Fault | undefined {
    const fault = this.faults.find((f) => matches(f, req));
    if (fault && --fault.remaining <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    return fault;
  }

  private act(fault: Fault, res: Response, next: () => void): void {
    if (fault.destroy) return void res.socket?.destroy();
    if (fault.hang) return this.hold(res, { resume: next });
    if (fault.headers) res.set(fault.headers);
    if (fault.status === undefined) return next();
    res.status(fault.status);
    if (fault.body === undefined) res.end();
    else if (typeof fault.body === 'string') res.send(fault.body);
    else res.json(fault.body);
  }

  private hold(res: ServerResponse, held: { timer?: NodeJS.Timeout; resume: () => void }): void {
    this.held.set(res, held);
    res.once('close', () => {
      clearTimeout(this.held.get(res)?.timer);
      this.held.delete(res);
    });
  }

  /** Stops holding `res`; false when it was already let go (client gone, cleared or released). */
  private unhold(res: ServerResponse): boolean {
    return this.held.delete(res) && !res.destroyed;
  }
}

function matches(fault: Fault, req: Request): boolean {
  const { method, path } = fault.match ?? {};
  if (method && method.toUpperCase() !== req.method) return false;
  if (path) {
    path.lastIndex = 0;
    if (!path.test(req.path)) return false;
  }
  return true;
}

/** What every reference service shares: its name, service token, request log and fault injector. */
export interface ServiceAppOptions {
  name: string;
  serviceToken?: string;
  requests: RecordedRequest[];
  faults: FaultInjector;
  /** Route parameters that must match PATH_ID_PATTERN (else 400). */
  idParams: string[];
}

/**
 * Builds an express app: JSON bodies (1 MB) → request log → faults → `GET /health` (no token)
 * → service-token check → the routes that `mount` adds → JSON 404 and error answers.
 */
export function createServiceApp(opts: ServiceAppOptions, mount: (app: Express) => void): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb' }));
  app.use(recordRequests(opts.requests));
  app.use(opts.faults.middleware());
  app.get('/health', (_req, res) => void res.json({ status: 'ok', service: opts.name }));
  app.use(requireServiceToken(opts.serviceToken));
  for (const name of opts.idParams) app.param(name, checkIdParam);
  mount(app);
  app.use((req, res) => sendError(res, 404, 'NOT_FOUND', `no route for ${req.method} ${req.path}`));
  app.use(answerError);
  return app;
}

const checkIdParam = (_req: Request, res: Response, next: () => void, value: unknown, name: string): void => {
  if (typeof value === 'string' && PATH_ID_PATTERN.test(value)) return next();
  sendError(res, 400, 'VALIDATION_FAILED', `${name}: invalid id`);
};

/** Body-parser failures keep their 4xx status; anything else is a 500 without details. */
const answerError: ErrorRequestHandler = (err: { status?: unknown; message?: unknown }, _req, res, _next) => {
  const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
  if (status === 413) return sendError(res, 413, 'PAYLOAD_TOO_LARGE', 'request body too large');
  if (status === 500) return sendError(res, 500, 'INTERNAL', 'internal error');
  sendError(res, status, 'VALIDATION_FAILED', String(err.message ?? 'bad request'));
};

/** Where to listen. */
export interface ListenOptions {
  /** @default 0 (any free port) */ port?: number;
  /** @default "127.0.0.1" */ host?: string;
}

/** A listening server. */
export interface RunningServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  /** Stops listening and destroys open (keep-alive or held) connections. */
  close(): Promise<void>;
}

/** Serves `app` over HTTP; resolves once it listens. */
export function startHttp(app: Express, opts: ListenOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer(app);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const close = (): Promise<void> =>
        new Promise((done) => {
          server.close(() => done());
          server.closeAllConnections();
        });
      resolve({ url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port, close });
    });
  });
}

/** Starts a service built by one of the `create*Service` factories; its `close()` also clears faults. */
export async function startService<S extends { app: Express; faults: FaultInjector }>(
  service: S,
  opts: ListenOptions,
): Promise<S & RunningServer> {
  const server = await startHttp(service.app, opts);
  const close = async (): Promise<void> => {
    service.faults.clear();
    await server.close();
  };
  return { ...service, url: server.url, port: server.port, close };
}

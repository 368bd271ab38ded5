import { AxiosError, type AxiosAdapter, type AxiosInstance, type Method } from 'axios';
import axiosRetry, { exponentialDelay, isNetworkError, retryAfter } from 'axios-retry';
import {
  BrokenCircuitError,
  BulkheadPolicy,
  BulkheadRejectedError,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  IsolatedCircuitError,
  bulkhead,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import type { z } from 'zod';
import { isDotSegment } from '../contract/index.js';
import { errors, type GatewayError } from '../errors/GatewayError.js';
import { FaultLog } from '../observability/FaultLog.js';
import type { Logger } from '../observability/logger.js';
import { BREAKER_STATE_VALUE, type Metrics } from '../observability/metrics.js';
import { ATTEMPT_TIMEOUT, OutgoingCall, POOL_CONNECTIONS, leanAxios, undiciAdapter } from './undiciAdapter.js';

/** Settings of one backend service client. */
export interface ServiceClientOptions {
  /** Label in metrics and logs: "auth", "chat", "sink:ai"... */
  name: string;
  baseUrl: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Extra attempts for idempotent or keyed requests. */
  retries: number;
  breaker: { failureThreshold: number; halfOpenAfterMs: number };
  serviceToken?: string;
  metrics: Metrics;
  logger: Logger;
}

/** One outgoing call. */
export interface ServiceRequest {
  method: Method;
  /** Already-encoded path, built with `pathOf`. */
  path: string;
  /** Names the call in metrics ("create_message"). */
  operation: string;
  /** Sent as JSON. */
  body?: unknown;
  requestId: string;
  userId?: string;
  idempotencyKey?: string;
  /**
   * The 401/403 statuses with which this endpoint refuses the user it acts for (contract
   * section 6: POST /auth/verify answers 401 to a bad token; receipts, deletion and membership
   * 403). Any other 401/403, or one whose body names `UNAUTHORIZED` (the reference services'
   * answer to a wrong service token), refuses the gateway's own credentials: SERVICE_UNAVAILABLE.
   * @default none
   */
  userRefusals?: readonly number[];
  /**
   * What the gateway reads of a successful answer. An answer that does not match fails the call
   * with SERVICE_UNAVAILABLE (logged) and is never used. Check only the fields read: the answer
   * is returned as it came, so the schema must not transform.
   */
  answer?: z.ZodType;
}

/** A call's status answer, as the ServiceClient maps it to a contract code. */
export interface ServiceAnswer {
  status: number;
  /** `error.code` of the answer's body, when it has one. */
  code?: string;
  operation: string;
  userRefusals?: readonly number[];
  retryAfterMs?: number;
}

export type BreakerStateName = 'closed' | 'open' | 'half_open' | 'isolated';

/** A service as `/health` shows it: its breaker, and the last fault of the service a call met. */
export interface ServiceHealth {
  breaker: BreakerStateName;
  /** "ECONNREFUSED", "timeout after 2000 ms", "HTTP 503", "circuit open", "overloaded: too many calls in flight"... */
  last_error?: string;
  /** ISO 8601. */
  last_error_at?: string;
}

/** How a call failed, for metrics (`outcome`) and, when the service is at fault, for logs and /health (`cause`). */
interface CallFailure {
  error: GatewayError;
  outcome: string;
  cause?: string;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** Calls of one service in flight: one per pooled connection (more would wait in undici's queue, unbounded). */
export const MAX_CALLS_IN_FLIGHT = POOL_CONNECTIONS;
/** Calls waiting for one of those; a call beyond them fails fast as overloaded. */
export const MAX_CALLS_WAITING = POOL_CONNECTIONS;
/** The metrics outcome of a call refused because the service has too many calls in flight. */
const OVERLOADED = 'overloaded';
/** The metrics outcome of a call the service refused for the gateway's credentials (SERVICE_TOKEN). */
const CREDENTIALS_REJECTED = 'credentials_rejected';
/** The metrics outcome of an answer that lacks what the gateway reads of it. */
const MALFORMED_ANSWER = 'malformed_answer';

/**
 * Builds a URL path from segments, each percent-encoded so an id can never change the route.
 * `.` and `..` (even encoded) are dot segments that URL parsing resolves, so they are refused.
 */
export function pathOf(...segments: string[]): string {
  if (segments.some(isDotSegment)) throw errors.validation('an id may not be "." or ".."');
  return '/' + segments.map(encodeURIComponent).join('/');
}

/**
 * HTTP client of one backend service with its own policies. Order, outermost first:
 * bulkhead (calls in flight, cockatiel) → retry (axios-retry, the only retrying layer) →
 * circuit breaker (cockatiel, in the axios adapter so every attempt passes through it) →
 * per-attempt timeout (the undici adapter's timer, which aborts the request).
 */
export class ServiceClient {
  private readonly http: AxiosInstance;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly bulkhead: BulkheadPolicy;
  /** Keep-alive connection pool (undici) behind axios. */
  private readonly transport: ReturnType<typeof undiciAdapter>;
  /** Headers every call carries, as name/value pairs. */
  private readonly fixedHeaders: string[];
  /** Faults of the service, each kind logged at most once per interval. */
  private readonly faults: FaultLog;
  /** The last fault of the service a call met, for /health; set on failures only. */
  private lastFault?: { cause: string; at: number };

  constructor(private readonly opts: ServiceClientOptions) {
    this.transport = undiciAdapter(opts.baseUrl, opts.timeoutMs);
    this.faults = new FaultLog(opts.logger);
    this.breaker = circuitBreaker(handleWhen(countsAsFailure), {
      halfOpenAfter: opts.breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(opts.breaker.failureThreshold),
    });
    this.breaker.onStateChange((state) => this.onBreakerChange(state));
    opts.metrics.breakerState.set({ service: opts.name }, BREAKER_STATE_VALUE.closed);
    this.bulkhead = bulkhead(MAX_CALLS_IN_FLIGHT, MAX_CALLS_WAITING);
    this.fixedHeaders = ['accept', 'application/json'];
    if (opts.serviceToken) this.fixedHeaders.push('authorization', `Bearer ${opts.serviceToken}`);
    this.http = leanAxios(this.guardedAdapter());
    axiosRetry(this.http, {
      retries: opts.retries,
      retryCondition: (e) => this.mayRetry(e),
      retryDelay: (n, e) => exponentialDelay(n, e, 50),
      // Debug only: a failing service would log every call's retries; the failure itself is logged, rate-limited.
      onRetry: (n, e, cfg) => {
        opts.logger.debug('retrying service call', { service: opts.name, attempt: n, url: cfg.url, error: e.code ?? e.message });
      },
    });
  }

  /** The label of this service in metrics and logs. */
  get name(): string {
    return this.opts.name;
  }

  /** Current breaker state, for /metrics, /api/v1/stats and logs. */
  get breakerState(): BreakerStateName {
    return stateName(this.breaker.state);
  }

  /** The breaker and the last fault of the service, for /health. */
  get health(): ServiceHealth {
    const fault = this.lastFault;
    const breaker = this.breakerState;
    return fault ? { breaker, last_error: fault.cause, last_error_at: new Date(fault.at).toISOString() } : { breaker };
  }

  /** Sends one call; resolves with the response body (checked by `answer`) or rejects with a GatewayError. */
  async request<S extends z.ZodType>(req: ServiceRequest & { answer: S }): Promise<z.output<S>>;
  async request(req: ServiceRequest): Promise<unknown>;
  async request(req: ServiceRequest): Promise<unknown> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      const call = this.outgoing(req);
      const res = await this.bulkhead.execute(() => this.http.request({ method: req.method, url: req.path, call }));
      const checked = req.answer?.safeParse(res.data);
      if (checked?.success === false) {
        outcome = MALFORMED_ANSWER;
        throw this.malformedAnswer(req.operation, checked.error);
      }
      return res.data;
    } catch (e) {
      if (outcome === MALFORMED_ANSWER) throw e;
      const failure = this.failureOf(e, req);
      outcome = failure.outcome;
      if (failure.cause !== undefined) this.callFailed(failure.cause, req.operation, failure.error);
      throw failure.error;
    } finally {
      const labels = { service: this.opts.name, operation: req.operation, outcome };
      this.opts.metrics.outgoingSeconds.observe(labels, (performance.now() - started) / 1000);
    }
  }

  /** Closes pooled connections. */
  close(): void {
    this.transport.close();
  }

  /**
   * The contract code for a status the service answered (also for the items of a batch answer).
   * A refusal of the gateway's own credentials is logged here, loudly but at most once per FaultLog interval.
   */
  errorForAnswer(answer: ServiceAnswer): GatewayError {
    return this.answerFailure(answer).error;
  }

  /**
   * Maps what a call ended with to the contract's codes, names the outcome for metrics and, when
   * the service is at fault (what the breaker counts, or the breaker and bulkhead refusing), the cause.
   */
  private failureOf(e: unknown, req: ServiceRequest): CallFailure {
    const service = this.opts.name;
    const failed = (error: GatewayError, cause: string, outcome: string = error.code) => ({ error, outcome, cause });
    if (e instanceof BulkheadRejectedError) {
      return failed(errors.unavailable(`${service} service overloaded: too many calls in flight`), 'overloaded: too many calls in flight', OVERLOADED);
    }
    // cockatiel 3's is*Error guards are wrong for these two: use the classes.
    if (e instanceof BrokenCircuitError) return failed(errors.unavailable(`${service} service unavailable (circuit open)`), 'circuit open');
    if (e instanceof IsolatedCircuitError) return failed(errors.unavailable(`${service} service unavailable (circuit open)`), 'circuit isolated');
    if (!(e instanceof AxiosError)) return failed(errors.unavailable(`${service} service unavailable`), String((e as Error)?.message ?? e));
    if (e.code === ATTEMPT_TIMEOUT) return failed(errors.timeout(`${service} service timed out`), `timeout after ${this.opts.timeoutMs} ms`);
    if (e.response === undefined) return failed(errors.unavailable(`${service} service unreachable`), e.code ?? e.message);
    const failure = this.answerFailure({
      status: e.response.status,
      code: errorCodeOf(e.response.data),
      operation: req.operation,
      userRefusals: req.userRefusals,
      retryAfterMs: retryAfter(e),
    });
    return isTransientStatus(e.response.status) ? { ...failure, cause: `HTTP ${e.response.status}` } : failure;
  }

  /** A call the service failed: recorded for /health, logged at most once per interval with the cause. */
  private callFailed(cause: string, operation: string, error: GatewayError): void {
    this.fault('call_failed', `${this.opts.name} service call failed: ${cause}`, cause, { operation, code: error.code, breaker: this.breakerState });
  }

  /** Records a fault of the service for /health and logs it, rate-limited per kind. */
  private fault(kind: string, message: string, cause: string, fields: Record<string, unknown>): void {
    this.lastFault = { cause, at: Date.now() };
    this.faults.report(kind, 'error', message, { service: this.opts.name, cause, ...fields });
  }

  private answerFailure(answer: ServiceAnswer): CallFailure {
    const { status } = answer;
    if (refusesCredentials(answer)) {
      this.fault('credentials', `${this.opts.name} service refused the gateway's credentials: check SERVICE_TOKEN`, `HTTP ${status}: credentials refused`, {
        status,
        operation: answer.operation,
      });
      const error = errors.unavailable(`${this.opts.name} service unavailable`);
      error.upstreamStatus = status;
      return { error, outcome: CREDENTIALS_REJECTED };
    }
    const error = errorForStatus(status, this.opts.name, answer.retryAfterMs);
    error.upstreamStatus = status;
    return { error, outcome: error.code };
  }

  /** An answer (or a batch answer's entry) without what the gateway reads of it: a fault of the service, logged, never passed on. */
  malformedAnswer(operation: string, mismatch: z.ZodError): GatewayError {
    const issue = mismatch.issues[0];
    this.fault(`malformed:${operation}`, `${this.opts.name} service answered without what the gateway needs`, `malformed answer to ${operation}`, {
      operation,
      problem: issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid',
    });
    return errors.unavailable(`${this.opts.name} service answered malformed`);
  }

  /**
   * The call as every attempt sends it. The body is serialized here, once: axios would copy an
   * object body on every attempt (mergeConfig), and its transform would check it again.
   */
  private outgoing(req: ServiceRequest): OutgoingCall {
    const method = req.method.toUpperCase();
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers = this.fixedHeaders.slice();
    headers.push('x-request-id', req.requestId);
    if (body !== undefined) headers.push('content-type', 'application/json');
    if (req.userId) headers.push('x-user-id', req.userId);
    if (req.idempotencyKey) headers.push('idempotency-key', req.idempotencyKey);
    const mayRepeat = Boolean(req.idempotencyKey) || IDEMPOTENT_METHODS.has(method);
    return new OutgoingCall(method as OutgoingCall['method'], req.path, headers, body, mayRepeat);
  }

  /**
   * Every attempt through the breaker. Its own errors (open, isolated) reach axios-retry as they
   * are: without an axios config, they are never retried.
   */
  private guardedAdapter(): AxiosAdapter {
    const send = this.transport.adapter;
    return (config) => this.breaker.execute(() => send(config));
  }

  /** Retry only idempotent or keyed requests, never a plain 4xx. */
  private mayRetry(e: AxiosError): boolean {
    if (!e.config?.call?.mayRepeat) return false;
    if (retryAfter(e) > this.opts.timeoutMs) return false;
    return e.code === ATTEMPT_TIMEOUT || isNetworkError(e) || isTransientStatus(e.response?.status);
  }

  /** Every transition at warn: rare by construction (at most one open per half-open period). */
  private onBreakerChange(state: CircuitState): void {
    const name = stateName(state);
    const service = this.opts.name;
    this.opts.metrics.breakerState.set({ service }, BREAKER_STATE_VALUE[name]);
    const what: Record<BreakerStateName, string> = {
      open: `calls fail fast for ${this.opts.breaker.halfOpenAfterMs} ms`,
      half_open: 'trying one call',
      closed: 'the service answers again',
      isolated: 'isolated by hand',
    };
    this.opts.logger.warn(`${service} service circuit breaker ${name}: ${what[name]}`, { service, state: name, last_error: this.lastFault?.cause });
  }
}

/** 501 (Not Implemented) is for good: neither retried nor counted by the breaker. */
function isTransientStatus(status: number | undefined): boolean {
  return status !== undefined && ((status >= 500 && status !== 501) || status === 408 || status === 429);
}

/** What the breaker counts: no answer, a timeout, 5xx, 408, 429 — never another 4xx. */
function countsAsFailure(e: unknown): boolean {
  if (!(e instanceof AxiosError)) return true;
  if (e.code === ATTEMPT_TIMEOUT) return true;
  return e.response === undefined || isTransientStatus(e.response.status);
}

function stateName(state: CircuitState): BreakerStateName {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.Open:
      return 'open';
    case CircuitState.HalfOpen:
      return 'half_open';
    case CircuitState.Isolated:
      return 'isolated';
  }
}

/** 401/403 that refuse the gateway, not the user it acts for (see `ServiceRequest.userRefusals`). */
function refusesCredentials({ status, code, userRefusals }: ServiceAnswer): boolean {
  if (status !== 401 && status !== 403) return false;
  return code === 'UNAUTHORIZED' || !userRefusals?.includes(status);
}

/** `error.code` of an error answer's body, when it has one. */
function errorCodeOf(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | null | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The contract code for a service's status, once a refusal of the gateway's credentials is ruled out. */
function errorForStatus(status: number, service: string, retryAfterMs = 0): GatewayError {
  switch (status) {
    case 400:
    case 409:
    case 422:
      return errors.validation(`${service} service rejected the request`);
    case 401:
    case 403:
      return errors.forbidden();
    case 404:
      return errors.notFound();
    case 408:
      return errors.timeout(`${service} service timed out`);
    case 413:
      return errors.payloadTooLarge();
    case 429:
      return errors.rateLimited(retryAfterMs || 1000);
  }
  return errors.unavailable(`${service} service unavailable`);
}

import axios, { AxiosError, type AxiosAdapter, type AxiosInstance, type Method } from 'axios';
import axiosRetry, { exponentialDelay, isNetworkError, retryAfter } from 'axios-retry';
import {
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  BrokenCircuitError,
  IsolatedCircuitError,
  TaskCancelledError,
  timeout,
  wrap,
} from 'cockatiel';
import { errors, type GatewayError } from '../errors/GatewayError.js';
import type { Logger } from '../observability/logger.js';
import { BREAKER_STATE_VALUE, type Metrics } from '../observability/metrics.js';
import { undiciAdapter } from './undiciAdapter.js';

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
}

export type BreakerStateName = 'closed' | 'open' | 'half_open' | 'isolated';

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const BREAKER_OPEN = 'EBREAKER_OPEN';
const ATTEMPT_TIMEOUT = 'EATTEMPT_TIMEOUT';

/**
 * Builds a URL path from segments, each percent-encoded so an id can never change the route.
 * `.` and `..` (even encoded) are dot segments that URL parsing resolves, so they are refused.
 */
export function pathOf(...segments: string[]): string {
  if (segments.some(isDotSegment)) throw errors.validation('an id may not be "." or ".."');
  return '/' + segments.map(encodeURIComponent).join('/');
}

export function isDotSegment(segment: string): boolean {
  return segment === '.' || segment === '..';
}

/**
 * HTTP client of one backend service with its own policies. Order, outermost first:
 * retry (axios-retry, the only retrying layer) → circuit breaker → per-attempt timeout
 * (both cockatiel, inside the axios adapter so every attempt passes through them).
 */
export class ServiceClient {
  private readonly http: AxiosInstance;
  private readonly breaker: CircuitBreakerPolicy;
  /** Keep-alive connection pool (undici) behind axios. */
  private readonly transport: ReturnType<typeof undiciAdapter>;

  constructor(private readonly opts: ServiceClientOptions) {
    this.transport = undiciAdapter(opts.baseUrl);
    this.breaker = circuitBreaker(handleWhen(countsAsFailure), {
      halfOpenAfter: opts.breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(opts.breaker.failureThreshold),
    });
    this.breaker.onStateChange((state) => this.onBreakerChange(state));
    opts.metrics.breakerState.set({ service: opts.name }, BREAKER_STATE_VALUE.closed);
    this.http = axios.create({
      baseURL: opts.baseUrl,
      headers: opts.serviceToken ? { Authorization: `Bearer ${opts.serviceToken}` } : {},
      adapter: this.guardedAdapter(),
      // Bodies arrive here already JSON (see `request`): axios' own transform would parse a
      // string body again to check it.
      transformRequest: [(data: unknown) => data],
    });
    axiosRetry(this.http, {
      retries: opts.retries,
      retryCondition: (e) => this.mayRetry(e),
      retryDelay: (n, e) => exponentialDelay(n, e, 50),
      onRetry: (n, e, cfg) => {
        opts.logger.warn('retrying service call', { service: opts.name, attempt: n, url: cfg.url, error: e.code ?? e.message });
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

  /** Sends one call; resolves with the response body or rejects with a GatewayError. */
  async request<T>(req: ServiceRequest): Promise<T> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      // Serialized here, once: axios deep-copies an object body on every attempt (mergeConfig),
      // which for a batch of 32 messages cost more than the JSON itself.
      const hasBody = req.body !== undefined;
      const res = await this.http.request<T>({
        method: req.method,
        url: req.path,
        data: hasBody ? JSON.stringify(req.body) : undefined,
        headers: {
          ...(hasBody ? { 'Content-Type': 'application/json' } : {}),
          'X-Request-Id': req.requestId,
          ...(req.userId ? { 'X-User-Id': req.userId } : {}),
          ...(req.idempotencyKey ? { 'Idempotency-Key': req.idempotencyKey } : {}),
        },
      });
      return res.data;
    } catch (e) {
      const err = toGatewayError(e, this.opts.name);
      outcome = err.code;
      throw err;
    } finally {
      const labels = { service: this.opts.name, operation: req.operation, outcome };
      this.opts.metrics.outgoingSeconds.observe(labels, (performance.now() - started) / 1000);
    }
  }

  /** Closes pooled connections. */
  close(): void {
    this.transport.close();
  }

  private guardedAdapter(): AxiosAdapter {
    const base = this.transport.adapter;
    // abortOnReturn off: aborting a finished attempt's signal only costs a DOMException per call.
    const perAttempt = timeout(this.opts.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
    const policy = wrap(this.breaker, perAttempt);
    return async (config) => {
      const callerSignal = config.signal as AbortSignal | undefined;
      try {
        // A signal per attempt: cockatiel aborts it on timeout, and no listener piles up on a shared one.
        return await policy.execute(async ({ signal }) => {
          try {
            return await base({ ...config, signal: callerSignal ? AbortSignal.any([signal, callerSignal]) : signal });
          } catch (e) {
            // axios reports our timeout abort as "canceled" before cockatiel does: name it.
            if (signal.aborted && !callerSignal?.aborted) throw new AxiosError('attempt timed out', ATTEMPT_TIMEOUT, config);
            throw e;
          }
        }, new AbortController().signal);
      } catch (e) {
        // cockatiel 3's is*Error guards are wrong for these two: use the classes.
        if (e instanceof BrokenCircuitError || e instanceof IsolatedCircuitError) {
          throw new AxiosError('circuit open', BREAKER_OPEN, config);
        }
        if (e instanceof TaskCancelledError) throw new AxiosError('attempt timed out', ATTEMPT_TIMEOUT, config);
        // axios-retry retries with the error's config: give it the original, not this attempt's
        // copy whose signal is already aborted.
        if (e instanceof AxiosError) e.config = config;
        throw e;
      }
    };
  }

  /** Retry only idempotent or keyed requests, never an open breaker, never a plain 4xx. */
  private mayRetry(e: AxiosError): boolean {
    if (e.code === BREAKER_OPEN) return false;
    const cfg = e.config;
    const keyed = Boolean(cfg?.headers?.['Idempotency-Key']);
    if (!keyed && !IDEMPOTENT_METHODS.has((cfg?.method ?? '').toUpperCase())) return false;
    if (retryAfter(e) > this.opts.timeoutMs) return false;
    return e.code === ATTEMPT_TIMEOUT || isNetworkError(e) || isTransientStatus(e.response?.status);
  }

  private onBreakerChange(state: CircuitState): void {
    const name = stateName(state);
    this.opts.metrics.breakerState.set({ service: this.opts.name }, BREAKER_STATE_VALUE[name]);
    this.opts.logger.warn('circuit breaker state changed', { service: this.opts.name, state: name });
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

/** Maps what a service call ended with to the contract's codes. */
function toGatewayError(e: unknown, service: string): GatewayError {
  if (!(e instanceof AxiosError)) return errors.unavailable(`${service} service unavailable`);
  if (e.code === BREAKER_OPEN) return errors.unavailable(`${service} service unavailable (circuit open)`);
  if (e.code === ATTEMPT_TIMEOUT) return errors.timeout(`${service} service timed out`);
  const status = e.response?.status;
  if (status === undefined) return errors.unavailable(`${service} service unreachable`);
  const err = errorForStatus(status, service, retryAfter(e));
  err.upstreamStatus = status;
  return err;
}

/** The contract code for a service's HTTP status (also used for the items of a batch answer). */
export function errorForStatus(status: number, service: string, retryAfterMs = 0): GatewayError {
  switch (status) {
    case 400:
    case 409:
    case 422:
      return errors.validation(`${service} service rejected the request`);
    case 401:
      return errors.forbidden('unauthorized');
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

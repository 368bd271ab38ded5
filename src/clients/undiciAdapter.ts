import axios, { AxiosError, AxiosHeaders, type AxiosAdapter, type AxiosInstance, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher } from 'undici';

/** Keep-alive connections per service; a request beyond them waits in undici's queue. */
export const POOL_CONNECTIONS = 256;
/** Largest service answer read, like axios' `maxContentLength`. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** The code of an attempt that outlived its timeout (aborted, and retried like a network error). */
export const ATTEMPT_TIMEOUT = 'EATTEMPT_TIMEOUT';

/**
 * One service call as it goes on the wire, built once by the ServiceClient and sent as it is by
 * every attempt. A class, not a plain object: axios copies plain objects of a config deeply on
 * every merge, and passes anything else by reference.
 */
export class OutgoingCall {
  constructor(
    readonly method: Dispatcher.HttpMethod,
    /** The contract's path; the base URL's path goes in front. */
    readonly path: string,
    /** Name/value pairs, undici's own format. */
    readonly headers: string[],
    /** Already JSON. */
    readonly body: string | undefined,
    /** An idempotent method or a keyed request: safe to send again. */
    readonly mayRepeat: boolean,
  ) {}
}

declare module 'axios' {
  interface AxiosRequestConfig {
    /** What the undici adapter sends (see `OutgoingCall`). */
    call?: OutgoingCall;
  }
}

/**
 * An axios instance whose only default is its adapter. The adapter builds the request's
 * headers, reads the answer's JSON and checks its status itself, so axios' defaults for those
 * (header buckets, transforms, `transitional`, `validateStatus`, `env`...) would only be merged
 * into every call's config for nothing.
 */
export function leanAxios(adapter: AxiosAdapter): AxiosInstance {
  const http = axios.create({ adapter });
  const defaults = http.defaults as unknown as Record<string, unknown>;
  for (const key of Object.keys(defaults)) if (key !== 'adapter') delete defaults[key];
  return http;
}

/**
 * An axios adapter that sends a config's `OutgoingCall` through an undici connection pool
 * instead of node:http, with a per-attempt timeout that aborts the request. Axios and
 * axios-retry stay in front; what they would do a second time is done here once: the headers
 * are the call's (axios' own header object is not consulted), the answer is parsed as JSON
 * once, and a non-2xx answer rejects with an AxiosError carrying it, as axios' `settle` does.
 */
export function undiciAdapter(baseUrl: string, attemptTimeoutMs: number): { adapter: AxiosAdapter; close(): void } {
  const dispatcher = new Agent({ connections: POOL_CONNECTIONS, maxResponseSize: MAX_RESPONSE_BYTES });
  const base = new URL(baseUrl);
  const origin = base.origin;
  const prefix = base.pathname.replace(/\/+$/, '');
  const adapter: AxiosAdapter = (config) => {
    const call = config.call;
    if (!call) return Promise.reject(new AxiosError('no OutgoingCall in the config', AxiosError.ERR_BAD_OPTION, config));
    return send(dispatcher, { origin, path: prefix + call.path, method: call.method, headers: call.headers, body: call.body }, attemptTimeoutMs, config);
  };
  // Like destroying an http.Agent: by the time services are closed nothing should be waiting.
  return { adapter, close: () => void dispatcher.destroy().catch(() => undefined) };
}

/**
 * One attempt through the pool, its answer read whole. undici's `request()` hands every answer
 * over as a stream (a Readable in an async scope) to be read back with `text()`, which for the
 * services' short JSON answers cost more than the rest of the call. The timeout is a timer on
 * the attempt rather than an AbortSignal: one timer, no signal or listener per call.
 */
function send(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  timeoutMs: number,
  config: InternalAxiosRequestConfig,
): Promise<AxiosResponse> {
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let timedOut: AxiosError | undefined;
    const chunks: Buffer[] = [];
    let statusCode = 0;
    let headers: IncomingHttpHeaders = {};
    const timer = setTimeout(() => {
      timedOut = new AxiosError('attempt timed out', ATTEMPT_TIMEOUT, config);
      reject(timedOut);
      // A request still waiting for a connection is aborted once it gets one (onRequestStart).
      controller?.abort(timedOut);
    }, timeoutMs);
    dispatcher.dispatch(options, {
      onRequestStart(c) {
        controller = c;
        if (timedOut) c.abort(timedOut);
      },
      onResponseStart(_c, status, responseHeaders) {
        statusCode = status;
        headers = responseHeaders;
      },
      onResponseData(_c, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        clearTimeout(timer);
        if (statusCode >= 200 && statusCode < 300) resolve(answer(statusCode, undefined, chunks, config));
        else reject(statusError(answer(statusCode, headers, chunks, config), config));
      },
      onResponseError(_c, error) {
        clearTimeout(timer);
        reject(transportError(error, config));
      },
    });
  });
}

/**
 * The answer as axios hands it on. Only a failed answer's headers are read (Retry-After), and
 * axios validates and normalizes every header of an answer twice (AxiosHeaders, then its
 * transform step), so a successful answer, of which the ServiceClient keeps only the body,
 * carries none.
 */
function answer(status: number, headers: IncomingHttpHeaders | undefined, chunks: Buffer[], config: InternalAxiosRequestConfig): AxiosResponse {
  const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
  return {
    data: parseJson(text),
    status,
    statusText: '',
    headers: new AxiosHeaders(headers as Record<string, string> | undefined),
    config,
    request: {},
  };
}

/** The answer's JSON, or its text when it is not JSON (axios' default, "silent" parsing). */
function parseJson(text: string): unknown {
  if (text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function statusError(response: AxiosResponse, config: InternalAxiosRequestConfig): AxiosError {
  const code = response.status < 500 ? AxiosError.ERR_BAD_REQUEST : AxiosError.ERR_BAD_RESPONSE;
  return new AxiosError(`Request failed with status code ${response.status}`, code, config, {}, response);
}

/** Transport failures as axios reports them (no response, the system code), so axios-retry treats them alike. */
function transportError(e: unknown, config: InternalAxiosRequestConfig): AxiosError {
  if (e instanceof AxiosError) return e;
  const cause = e as { code?: string; message?: string; cause?: { code?: string } };
  const code = cause.cause?.code ?? cause.code ?? 'ECONNRESET';
  return new AxiosError(cause.message ?? 'request failed', code, config, {});
}

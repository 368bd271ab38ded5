import axios, { AxiosError, AxiosHeaders, type AxiosAdapter, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { Agent, type Dispatcher } from 'undici';

/** Largest service answer read, like axios' `maxContentLength`. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/**
 * An axios adapter that sends through an undici connection pool instead of node:http. Axios,
 * axios-retry and the cockatiel policies stay as they are; only the transport changes: a call
 * through axios' node:http adapter cost 154-174 µs of CPU here, through this one 68-85 µs
 * (undici alone 31-36), and service calls are the gateway's largest cost after socket writes.
 */
export function undiciAdapter(): { adapter: AxiosAdapter; close(): void } {
  const dispatcher = new Agent({ connections: 256, maxResponseSize: MAX_RESPONSE_BYTES });
  const adapter: AxiosAdapter = async (config) => {
    const url = new URL(axios.getUri(config));
    let res: Dispatcher.ResponseData;
    let data: string;
    try {
      res = await dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: (config.method ?? 'get').toUpperCase() as Dispatcher.HttpMethod,
        headers: plainHeaders(config),
        body: config.data as string | undefined,
        signal: config.signal as AbortSignal | undefined,
      });
      data = await res.body.text();
    } catch (e) {
      throw transportError(e, config);
    }
    const response: AxiosResponse = {
      data,
      status: res.statusCode,
      statusText: '',
      headers: new AxiosHeaders(res.headers as Record<string, string>),
      config,
      request: {},
    };
    if (config.validateStatus && !config.validateStatus(res.statusCode)) {
      const code = res.statusCode < 500 ? AxiosError.ERR_BAD_REQUEST : AxiosError.ERR_BAD_RESPONSE;
      throw new AxiosError(`Request failed with status code ${res.statusCode}`, code, config, {}, response);
    }
    return response;
  };
  // Like destroying an http.Agent: by the time services are closed nothing should be waiting.
  return { adapter, close: () => void dispatcher.destroy().catch(() => undefined) };
}

function plainHeaders(config: InternalAxiosRequestConfig): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers.toJSON())) {
    if (value !== undefined && value !== null) headers[name] = String(value);
  }
  return headers;
}

/** Transport failures as axios reports them (no response, the system code), so axios-retry treats them alike. */
function transportError(e: unknown, config: InternalAxiosRequestConfig): AxiosError {
  const cause = e as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  if (cause.name === 'AbortError' || cause.code === 'UND_ERR_ABORTED') {
    return new AxiosError('canceled', AxiosError.ERR_CANCELED, config, {});
  }
  const code = cause.cause?.code ?? cause.code ?? 'ECONNRESET';
  return new AxiosError(cause.message ?? 'request failed', code, config, {});
}

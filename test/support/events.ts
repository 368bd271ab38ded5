import type { Socket as ClientSocket } from 'socket.io-client';

/** Emits with an ack and resolves with the ack's body (fails after `timeoutMs`). */
export function request<T = any>(socket: ClientSocket, event: string, payload?: unknown, timeoutMs = 5000): Promise<T> {
  const timed = socket.timeout(timeoutMs);
  return (payload === undefined ? timed.emitWithAck(event) : timed.emitWithAck(event, payload)) as Promise<T>;
}

/** Resolves with the next payload of `event` on `socket`, or rejects after `timeoutMs`. */
export function nextEvent<T = any>(socket: ClientSocket, event: string, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, onEvent);
      reject(new Error(`no '${event}' within ${timeoutMs} ms`));
    }, timeoutMs);
    const onEvent = (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    };
    socket.once(event, onEvent);
  });
}

/** Collects every payload of `event` from now on. */
export function collect<T = any>(socket: ClientSocket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (p: T) => seen.push(p));
  return seen;
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true, up to `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The `connect_error` a refused handshake produces. */
export function connectError(socket: ClientSocket, timeoutMs = 3000): Promise<Error & { data?: any }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no connect_error')), timeoutMs);
    socket.once('connect_error', (e) => {
      clearTimeout(timer);
      resolve(e as Error & { data?: any });
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      reject(new Error('connected, expected connect_error'));
    });
  });
}

/** How a handshake ended: `connected` (the gateway's greeting), or the refusal's `err.data.code`. */
export function handshakeOutcome(socket: ClientSocket, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`handshake neither greeted nor refused within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connected', () => {
      clearTimeout(timer);
      resolve('connected');
    });
    socket.once('connect_error', (e: Error & { data?: { code?: string } }) => {
      clearTimeout(timer);
      resolve(e.data?.code ?? `connect_error without a code: ${e.message}`);
    });
  });
}

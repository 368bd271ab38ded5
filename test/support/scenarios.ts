import { expect } from 'chai';
import type { Socket as ClientSocket } from 'socket.io-client';
import { startStack, type Stack, type StackOptions } from './stack.js';
import { collect, request, waitFor } from './events.js';

/**
 * Starts a stack before the enclosing `describe`'s tests and stops it after them.
 * Returns a getter, since the stack exists only once the hook ran.
 */
export function useStack(env: Record<string, string> = {}, opts: StackOptions = {}): () => Stack {
  let stack: Stack | undefined;
  before(async () => {
    stack = await startStack(env, opts);
  });
  after(async () => {
    await stack?.stop();
    stack = undefined;
  });
  return () => {
    if (!stack) throw new Error('the stack is not running (use it inside a test)');
    return stack;
  };
}

let counter = 0;

/** A user or room id no other test of the process uses, so tests can share one stack. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

/**
 * A round trip on `socket`: resolves once the gateway answered an event sent now. Events the
 * gateway emitted to this socket before handling it have arrived by then (one connection keeps
 * order), so "nothing was received" can be asserted right after.
 */
export async function roundTrip(socket: ClientSocket): Promise<void> {
  const ack = await request(socket, 'get_online_users', {});
  expect(ack.ok, 'round trip ack').to.equal(true);
}

/** Round trips on every socket. */
export async function roundTrips(...sockets: ClientSocket[]): Promise<void> {
  await Promise.all(sockets.map(roundTrip));
}

/** Asserts an ack is the contract's failure with `code`. */
export function expectFailure(ack: any, code: string): void {
  expect(ack, 'ack').to.have.property('ok', false);
  expect(ack.error, 'ack.error').to.include({ code });
  expect(ack.error.message, 'ack.error.message').to.be.a('string');
  expect(ack.error.retryable, 'ack.error.retryable').to.be.a('boolean');
}

/** Asserts `value` is an ISO-8601 UTC time string. */
export function expectIsoTime(value: unknown, what = 'time'): void {
  expect(value, what).to.be.a('string');
  expect(new Date(value as string).toISOString(), what).to.equal(value);
}

/** The gateway's `GET /health` body. */
export async function health(stack: Stack): Promise<{ status: string; connections: number; online_users: number }> {
  const res = await fetch(`${stack.url}/health`);
  expect(res.status, 'GET /health status').to.equal(200);
  return (await res.json()) as { status: string; connections: number; online_users: number };
}

/** Disconnects `socket` and waits until the gateway counts one open socket fewer. */
export async function disconnectAndSettle(stack: Stack, socket: ClientSocket): Promise<void> {
  const before = (await health(stack)).connections;
  socket.disconnect();
  await waitFor(async () => (await health(stack)).connections === before - 1, 3000, `${before - 1} connections`);
}

/**
 * Connects a socket for `userId` with collectors on `events` attached before the handshake, for
 * events the gateway sends right after `connected`.
 */
export async function connectCollecting(
  stack: Stack,
  userId: string,
  events: string[],
): Promise<{ socket: ClientSocket; seen: Record<string, any[]> }> {
  const socket = stack.client({ token: stack.token(userId) });
  const seen = Object.fromEntries(events.map((e) => [e, collect(socket, e)]));
  await new Promise<void>((resolve, reject) => {
    socket.once('connected', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, seen };
}

/** Rejects when `promise` has not settled within `ms` (for "must not wait on X" tests). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

import { expect } from 'chai';
import sinon from 'sinon';
import { connectError, nextEvent } from '../support/events.js';
import { uniqueId, useStack } from '../support/scenarios.js';
import type { Stack } from '../support/stack.js';

/**
 * Hole 5: AUTH_MODE=remote keeps a verified token at most AUTH_CACHE_TTL_MS, and the backend's
 * POST /api/v1/users/{id}/disconnect makes the gateway forget the user's tokens, so a token the
 * auth-service revoked stops working.
 */

const API_KEY = 'backend-key';

/** From now on the auth-service refuses every token, as it does one it revoked. */
function revokeEverything(stack: Stack): void {
  stack.auth.faults.add({ status: 401, body: { error: { code: 'AUTH_INVALID', message: 'token revoked' } }, match: { path: /^\/auth\/verify$/ } });
}

/** Connects with `token` and resolves once greeted; rejects on a refusal. */
async function connectWith(stack: Stack, token: string) {
  const socket = stack.client({ token });
  await Promise.race([nextEvent(socket, 'connected'), connectError(socket).then((e) => Promise.reject(new Error(`refused: ${JSON.stringify(e.data)}`)))]);
  return socket;
}

describe('AUTH_MODE=remote: how long a verified token is trusted', () => {
  const stack = useStack({ AUTH_MODE: 'remote', JWT_SECRET: '', RATE_LIMIT_ENABLED: 'false', PUSH_API_KEYS: API_KEY });
  afterEach(() => stack().auth.faults.clear());

  it('asks again after AUTH_CACHE_TTL_MS (60 s), though the token is valid for an hour, and refuses a revoked token then', async () => {
    const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    try {
      const token = stack().token(uniqueId('user'), 3600);
      await connectWith(stack(), token);
      revokeEverything(stack());
      clock.tick(59_000);
      await connectWith(stack(), token);

      clock.tick(1_001);
      const refused = await connectError(stack().client({ token }));

      expect(refused.data).to.deep.equal({ code: 'AUTH_INVALID' });
    } finally {
      clock.restore();
    }
  });

  it('verifies the token of a user the backend disconnected again when they reconnect', async () => {
    const user = uniqueId('user');
    const token = stack().token(user);
    const socket = await connectWith(stack(), token);
    revokeEverything(stack());
    const gone = nextEvent(socket, 'disconnect');

    const res = await fetch(`${stack().url}/api/v1/users/${user}/disconnect`, { method: 'POST', headers: { 'x-api-key': API_KEY } });
    expect(await res.json()).to.deep.equal({ disconnected: 1 });
    await gone;

    const refused = await connectError(stack().client({ token }));
    expect(refused.data).to.deep.equal({ code: 'AUTH_INVALID' });
  });

  it('keeps the tokens of other users', async () => {
    const [kept, disconnected] = [uniqueId('kept'), uniqueId('disconnected')];
    const token = stack().token(kept);
    await connectWith(stack(), token);
    revokeEverything(stack());

    await fetch(`${stack().url}/api/v1/users/${disconnected}/disconnect`, { method: 'POST', headers: { 'x-api-key': API_KEY } });

    await connectWith(stack(), token);
  });
});

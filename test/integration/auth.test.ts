import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import type { Socket as ClientSocket } from 'socket.io-client';
import { collect, connectError, nextEvent, request, sleep, waitFor } from '../support/events.js';
import { handshakesTogether } from '../support/handshakes.js';
import { sample, scrape } from '../support/metrics.js';
import { health } from '../support/scenarios.js';
import { startStack, TEST_SECRET, type ConnectOptions, type Stack } from '../support/stack.js';

/** Contract section 1 (connecting) and `refresh_token`. */

type ClientOptions = ConnectOptions & { token?: string };

interface Connected {
  socket_id: string;
  user_id: string;
  server_time: string;
}

/** Starts a stack for the enclosing describe and stops it after; returns a getter. */
function useStack(env: Record<string, string> | (() => Record<string, string>)): () => Stack {
  let stack: Stack | undefined;
  before(async () => {
    stack = await startStack(typeof env === 'function' ? env() : env);
  });
  after(async () => {
    await stack?.stop();
  });
  return () => stack!;
}

/** Opens a raw client and resolves with it and its `connected` payload; a refusal rejects with its code. */
function open(stack: Stack, opts: ClientOptions): Promise<{ socket: ClientSocket; connected: Connected }> {
  const socket = stack.client(opts);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no connected within 3000 ms')), 3000);
    socket.once('connected', (connected: Connected) => {
      clearTimeout(timer);
      resolve({ socket, connected });
    });
    socket.once('connect_error', (e: Error & { data?: unknown }) => {
      clearTimeout(timer);
      reject(new Error(`handshake refused: ${e.message} ${JSON.stringify(e.data)}`));
    });
  });
}

/** The user id the gateway greets a client with. */
async function userOf(stack: Stack, opts: ClientOptions): Promise<string> {
  return (await open(stack, opts)).connected.user_id;
}

/** The `connect_error` of a handshake made with `opts`. */
function refusal(stack: Stack, opts: ClientOptions): Promise<Error & { data?: any }> {
  return connectError(stack.client(opts));
}

/** Asserts an authentication refusal exactly as the contract words it. */
async function expectUnauthorized(stack: Stack, opts: ClientOptions, code: 'AUTH_MISSING' | 'AUTH_INVALID' | 'AUTH_EXPIRED') {
  const err = await refusal(stack, opts);
  expect({ message: err.message, data: err.data }).to.deep.equal({ message: 'unauthorized', data: { code } });
}

const nowS = () => Math.floor(Date.now() / 1000);
const b64url = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');

/** A JWT with `alg: none` and no signature. */
function unsignedToken(claims: object): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
}

/** An HS256 JWT signed by hand with any key bytes (jsonwebtoken refuses some keys we need to misuse). */
function hmacToken(claims: object, key: string): string {
  const signed = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${signed}.${createHmac('sha256', key).update(signed).digest('base64url')}`;
}

/** The ISO time of a token's `exp`. */
function expiryOf(token: string): string {
  const { exp } = jwt.decode(token) as { exp: number };
  return new Date(exp * 1000).toISOString();
}

describe('connecting (AUTH_MODE=local, HS256)', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false' });

  describe('where the token comes from', () => {
    it('accepts a token in the handshake auth.token', async () => {
      expect(await userOf(stack(), { auth: { token: stack().token('ann') } })).to.equal('ann');
    });

    for (const transport of ['websocket', 'polling'] as const) {
      it(`accepts an Authorization: Bearer header (${transport})`, async () => {
        const opts = { transports: [transport], extraHeaders: { Authorization: `Bearer ${stack().token('ben')}` } };
        expect(await userOf(stack(), opts)).to.equal('ben');
      });
    }

    it('accepts a token query parameter', async () => {
      expect(await userOf(stack(), { query: { token: stack().token('cat') } })).to.equal('cat');
    });

    it('prefers auth.token over the header and the query parameter', async () => {
      const opts = {
        auth: { token: stack().token('from-auth') },
        extraHeaders: { Authorization: `Bearer ${stack().token('from-header')}` },
        query: { token: stack().token('from-query') },
      };
      expect(await userOf(stack(), opts)).to.equal('from-auth');
    });

    it('prefers the Authorization header over the query parameter', async () => {
      const opts = {
        extraHeaders: { Authorization: `Bearer ${stack().token('from-header')}` },
        query: { token: stack().token('from-query') },
      };
      expect(await userOf(stack(), opts)).to.equal('from-header');
    });
  });

  describe('the connected greeting', () => {
    it('names the socket id, the token user and the server time', async () => {
      const before = Date.now();
      const { socket, connected } = await open(stack(), { token: stack().token('dora') });
      const after = Date.now();
      expect(Object.keys(connected).sort()).to.deep.equal(['server_time', 'socket_id', 'user_id']);
      expect(connected.socket_id).to.equal(socket.id);
      expect(connected.user_id).to.equal('dora');
      expect(new Date(connected.server_time).toISOString()).to.equal(connected.server_time);
      expect(Date.parse(connected.server_time)).to.be.within(before, after);
    });
  });

  describe('refused handshakes', () => {
    it('refuses a handshake without a token with AUTH_MISSING', async () => {
      await expectUnauthorized(stack(), {}, 'AUTH_MISSING');
    });

    it('refuses an empty auth.token with AUTH_MISSING', async () => {
      await expectUnauthorized(stack(), { auth: { token: '' } }, 'AUTH_MISSING');
    });

    const invalid: Array<[string, () => string]> = [
      ['a string that is not a JWT', () => 'not-a-jwt'],
      ['a token signed with another secret', () => jwt.sign({ sub: 'eve', exp: nowS() + 600 }, 'another-secret-of-16-chars+')],
      ['an alg:none token', () => unsignedToken({ sub: 'eve', exp: nowS() + 600 })],
      ['a token without exp', () => stack().token('eve', undefined, { exp: undefined })],
      ['a token not valid before a future nbf', () => stack().token('eve', 3600, { nbf: nowS() + 600 })],
      ['a token that names no user', () => stack().token('eve', 3600, { sub: undefined })],
    ];
    for (const [what, token] of invalid) {
      it(`refuses ${what} with AUTH_INVALID`, async () => {
        await expectUnauthorized(stack(), { token: token() }, 'AUTH_INVALID');
      });
    }

    it('refuses an expired token with AUTH_EXPIRED', async () => {
      await expectUnauthorized(stack(), { token: stack().token('eve', -10) }, 'AUTH_EXPIRED');
    });

    it('refuses an expired token given in the query parameter with AUTH_EXPIRED', async () => {
      await expectUnauthorized(stack(), { query: { token: stack().token('eve', -10) } }, 'AUTH_EXPIRED');
    });
  });

  describe('the user claim (default JWT_USER_CLAIM=sub)', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['takes the user from sub', {}, 'sub-user'],
      ['takes user_id when sub is absent', { sub: undefined, user_id: 'uid-user' }, 'uid-user'],
      ['takes id when sub is absent', { sub: undefined, id: 'id-user' }, 'id-user'],
      ['prefers sub over user_id and id', { user_id: 'uid-user', id: 'id-user' }, 'sub-user'],
    ];
    for (const [what, claims, expected] of cases) {
      it(what, async () => {
        expect(await userOf(stack(), { token: stack().token('sub-user', 3600, claims) })).to.equal(expected);
      });
    }
  });

  describe('token expiry and refresh_token', () => {
    /** A socket whose token expires about 2 s from now (1..2 s: `exp` has whole seconds). */
    async function shortLived(userId: string) {
      const token = stack().token(userId, 2);
      const { socket } = await open(stack(), { token });
      return { socket, expiresAtMs: Date.parse(expiryOf(token)) };
    }

    it('tells the client AUTH_EXPIRED and disconnects it when the token expires', async () => {
      const { socket } = await shortLived('fay');
      const error = nextEvent(socket, 'error', 4000);
      const disconnected = nextEvent(socket, 'disconnect', 4000);
      expect(await error).to.include({ code: 'AUTH_EXPIRED' });
      expect(await disconnected).to.equal('io server disconnect');
    });

    it('keeps a socket that refreshed its token in time connected past the old expiry', async () => {
      const { socket, expiresAtMs } = await shortLived('gus');
      const errors = collect(socket, 'error');
      const disconnects = collect(socket, 'disconnect');
      const fresh = stack().token('gus', 600);
      const ack = await request(socket, 'refresh_token', { token: fresh });
      expect(ack).to.deep.equal({ ok: true, expires_at: expiryOf(fresh) });
      await sleep(Math.max(0, expiresAtMs - Date.now()) + 500);
      expect(errors).to.deep.equal([]);
      expect(disconnects).to.deep.equal([]);
      expect(await request(socket, 'get_online_users', { user_ids: ['gus'] })).to.deep.equal({ ok: true, users: ['gus'] });
    });

    it("refuses a refresh with another user's token with FORBIDDEN", async () => {
      const { socket } = await open(stack(), { token: stack().token('hal') });
      const ack = await request(socket, 'refresh_token', { token: stack().token('ivy', 600) });
      expect(ack.ok).to.equal(false);
      expect(ack.error.code).to.equal('FORBIDDEN');
    });

    it('refuses a refresh with an expired token with AUTH_EXPIRED', async () => {
      const { socket } = await open(stack(), { token: stack().token('jon') });
      const ack = await request(socket, 'refresh_token', { token: stack().token('jon', -10) });
      expect(ack.ok).to.equal(false);
      expect(ack.error.code).to.equal('AUTH_EXPIRED');
    });
  });
});

describe('connecting with JWT_ISSUER and JWT_AUDIENCE set', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false', JWT_ISSUER: 'chat-auth', JWT_AUDIENCE: 'chat-gateway' });
  const claims = (extra: Record<string, unknown>) => ({ iss: 'chat-auth', aud: 'chat-gateway', ...extra });

  it('accepts a token with the configured iss and aud', async () => {
    expect(await userOf(stack(), { token: stack().token('kim', 3600, claims({})) })).to.equal('kim');
  });

  const wrong: Array<[string, Record<string, unknown>]> = [
    ['a wrong iss', { iss: 'someone-else' }],
    ['a wrong aud', { aud: 'another-app' }],
    ['no iss', { iss: undefined }],
    ['no aud', { aud: undefined }],
  ];
  for (const [what, extra] of wrong) {
    it(`refuses a token with ${what} with AUTH_INVALID`, async () => {
      await expectUnauthorized(stack(), { token: stack().token('kim', 3600, claims(extra)) }, 'AUTH_INVALID');
    });
  }
});

describe('connecting with a custom JWT_USER_CLAIM', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false', JWT_USER_CLAIM: 'member_id' });

  it('takes the user from the configured claim, not from sub', async () => {
    expect(await userOf(stack(), { token: stack().token('not-me', 3600, { member_id: 'lea' }) })).to.equal('lea');
  });

  it('refuses a token without the configured claim with AUTH_INVALID', async () => {
    await expectUnauthorized(stack(), { token: stack().token('lea') }, 'AUTH_INVALID');
  });
});

describe('connecting with asymmetric keys (JWT_PUBLIC_KEY)', () => {
  const pemOf = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }) as string;
  const modes = [
    { name: 'RS256', generate: () => generateKeyPairSync('rsa', { modulusLength: 2048 }), oneLine: false },
    { name: 'ES256', generate: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }), oneLine: false },
    { name: 'RS256 with the PEM on one line (literal \\n)', generate: () => generateKeyPairSync('rsa', { modulusLength: 2048 }), oneLine: true },
  ];

  for (const mode of modes) {
    describe(mode.name, () => {
      const algorithm = mode.name.slice(0, 5) as jwt.Algorithm;
      let keys: ReturnType<typeof mode.generate>;
      let publicPem: string;
      const stack = useStack(() => {
        keys = mode.generate();
        publicPem = pemOf(keys.publicKey);
        const configured = mode.oneLine ? publicPem.replace(/\n/g, '\\n') : publicPem;
        return { RATE_LIMIT_ENABLED: 'false', JWT_ALGORITHMS: algorithm, JWT_PUBLIC_KEY: configured };
      });
      const signed = (userId: string, ttlS: number, key: KeyObject = keys.privateKey) =>
        jwt.sign({ sub: userId, exp: nowS() + ttlS }, key, { algorithm });

      it('accepts a token signed with the private key', async () => {
        expect(await userOf(stack(), { token: signed('max', 600) })).to.equal('max');
      });

      it('refuses a token signed with another key pair with AUTH_INVALID', async () => {
        await expectUnauthorized(stack(), { token: signed('max', 600, mode.generate().privateKey) }, 'AUTH_INVALID');
      });

      it('refuses an HS256 token signed with the public key with AUTH_INVALID', async () => {
        await expectUnauthorized(stack(), { token: hmacToken({ sub: 'max', exp: nowS() + 600 }, publicPem) }, 'AUTH_INVALID');
      });

      it('refuses an HS256 token signed with JWT_SECRET with AUTH_INVALID', async () => {
        await expectUnauthorized(stack(), { token: hmacToken({ sub: 'max', exp: nowS() + 600 }, TEST_SECRET) }, 'AUTH_INVALID');
      });

      it('refuses an expired token signed with the private key with AUTH_EXPIRED', async () => {
        await expectUnauthorized(stack(), { token: signed('max', -10) }, 'AUTH_EXPIRED');
      });
    });
  }
});

describe('connecting with AUTH_MODE=remote', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false', AUTH_MODE: 'remote', JWT_SECRET: '' });
  const verifyCalls = () => stack().auth.requests.filter((r) => r.method === 'POST' && r.path === '/auth/verify');

  it('asks the auth-service to verify the token and greets the user it names', async () => {
    const token = stack().token('nia');
    const calls = verifyCalls().length;
    expect(await userOf(stack(), { token })).to.equal('nia');
    const made = verifyCalls().slice(calls);
    expect(made).to.have.length(1);
    expect(made[0].body).to.deep.equal({ token });
    expect(made[0].headers['x-request-id']).to.be.a('string').and.not.equal('');
  });

  it('does not ask again for a token it has verified before', async () => {
    const token = stack().token('oli');
    await open(stack(), { token });
    const calls = verifyCalls().length;
    expect(await userOf(stack(), { token })).to.equal('oli');
    expect(verifyCalls()).to.have.length(calls);
  });

  it('asks once for a token that several handshakes present at the same time', async () => {
    const token = stack().token('quin');
    const calls = verifyCalls().length;
    stack().auth.faults.add({ hang: true, match: { method: 'POST', path: /^\/auth\/verify$/ } });
    try {
      const tabs = [1, 2, 3].map(() => stack().client({ token }));
      const greetings = tabs.map((tab) => nextEvent(tab, 'connected'));
      const inProgress = async () => sample(await scrape(stack()), 'gateway_handshakes_in_progress');
      await waitFor(async () => (await inProgress()) === 3, 3000, 'three handshakes waiting on verification');
      expect(stack().auth.faults.holding, 'verifications held').to.equal(1);
      stack().auth.faults.release();
      expect((await Promise.all(greetings)).map((g) => g.user_id)).to.deep.equal(['quin', 'quin', 'quin']);
      expect(verifyCalls().slice(calls)).to.have.length(1);
    } finally {
      stack().auth.faults.clear();
    }
  });

  it('refuses a token the auth-service rejects with AUTH_INVALID', async () => {
    const token = jwt.sign({ sub: 'pia', exp: nowS() + 600 }, 'another-secret-of-16-chars+');
    await expectUnauthorized(stack(), { token }, 'AUTH_INVALID');
  });

  it('refuses an expired token with AUTH_EXPIRED', async () => {
    await expectUnauthorized(stack(), { token: stack().token('pia', -10) }, 'AUTH_EXPIRED');
  });
});

describe('connecting with CORS_ORIGINS set', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false', CORS_ORIGINS: 'https://chat.example.com,https://admin.example.com' });

  for (const transport of ['websocket', 'polling'] as const) {
    it(`refuses a foreign Origin with ORIGIN_FORBIDDEN (${transport})`, async () => {
      const opts = { token: stack().token('quin'), transports: [transport], extraHeaders: { Origin: 'https://evil.example.com' } };
      const err = await refusal(stack(), opts);
      expect(err.data?.code).to.equal('ORIGIN_FORBIDDEN');
    });
  }

  it('accepts an allowed Origin', async () => {
    const opts = { token: stack().token('quin'), extraHeaders: { Origin: 'https://admin.example.com' } };
    expect(await userOf(stack(), opts)).to.equal('quin');
  });
});

describe('connection caps', () => {
  describe('MAX_SOCKETS_PER_USER=2', () => {
    const stack = useStack({ MAX_SOCKETS_PER_USER: '2' });

    it("refuses a user's third socket with RATE_LIMITED but still admits other users", async () => {
      await stack().connect('ray');
      await stack().connect('ray');
      const err = await refusal(stack(), { token: stack().token('ray') });
      expect(err.data?.code).to.equal('RATE_LIMITED');
      expect(await userOf(stack(), { token: stack().token('sam') })).to.equal('sam');
    });

    it('admits the user again once one of their sockets has left', async () => {
      const first = await stack().connect('tia');
      await stack().connect('tia');
      expect((await refusal(stack(), { token: stack().token('tia') })).data?.code).to.equal('RATE_LIMITED');
      first.disconnect();
      await waitFor(() => userOf(stack(), { token: stack().token('tia') }).then(() => true, () => false), 3000, 'a third socket of tia');
    });
  });

  describe('MAX_SOCKETS_PER_USER=2 with handshakes in parallel (AUTH_MODE=remote)', () => {
    const stack = useStack({ MAX_SOCKETS_PER_USER: '2', RATE_LIMIT_ENABLED: 'false', AUTH_MODE: 'remote', JWT_SECRET: '' });
    it('admits exactly 2 of 8 handshakes of one user that complete together, refusing the rest with RATE_LIMITED', async () => {
      const { outcomes } = await handshakesTogether([stack()], stack().token('una'), 8);
      const ended = await Promise.all(outcomes);
      expect(ended.filter((o) => o === 'connected'), JSON.stringify(ended)).to.have.length(2);
      expect(ended.filter((o) => o !== 'connected')).to.deep.equal(Array(6).fill('RATE_LIMITED'));
      expect((await refusal(stack(), { token: stack().token('una') })).data?.code, 'a later one').to.equal('RATE_LIMITED');
    });

    it('gives back the slot of a client that left while its handshake was waiting', async () => {
      const token = stack().token('vin');
      const { connections } = await health(stack());
      const { outcomes } = await handshakesTogether([stack()], token, 2, async ([leaving]) => {
        leaving.disconnect();
        await waitFor(async () => (await health(stack())).connections === connections + 1, 3000, 'the gateway to see the tab go');
      });
      void outcomes[0].catch(() => undefined); // the tab that left ends its handshake neither way
      expect(await outcomes[1]).to.equal('connected');
      expect(await userOf(stack(), { token }), 'a second socket').to.equal('vin');
      expect((await refusal(stack(), { token })).data?.code, 'a third').to.equal('RATE_LIMITED');
    });
  });

  describe('MAX_CONNECTIONS_PER_IP_PER_MIN=3', () => {
    const stack = useStack({ MAX_CONNECTIONS_PER_IP_PER_MIN: '3' });

    it('refuses the fourth handshake from one address within a minute with RATE_LIMITED', async () => {
      for (const user of ['uma', 'vic', 'wes']) await stack().connect(user);
      const err = await refusal(stack(), { token: stack().token('xan') });
      expect(err.data?.code).to.equal('RATE_LIMITED');
      expect(err.data?.retry_after_ms).to.be.a('number').greaterThan(0);
    });
  });

  /**
   * The test client plays a client behind `hops` proxies: each handshake forges a new leftmost
   * X-Forwarded-For entry, then come the entries the proxies appended (`appended`, the client's
   * real address first).
   */
  const behindProxies = (env: Record<string, string>, appended: (client: string) => string[]) => {
    const stack = useStack({ MAX_CONNECTIONS_PER_IP_PER_MIN: '3', ...env });
    const via = (client: string, forged: string) => ({ extraHeaders: { 'X-Forwarded-For': [forged, ...appended(client)].join(', ') } });

    it('counts the address the proxies saw, whatever the client writes to the left of it', async () => {
      for (const [i, user] of ['abe', 'bea', 'cy'].entries()) {
        expect(await userOf(stack(), { ...via('203.0.113.7', `198.18.0.${i}`), token: stack().token(user) })).to.equal(user);
      }
      const err = await refusal(stack(), { ...via('203.0.113.7', '198.18.0.99'), token: stack().token('dee') });
      expect(err.data?.code).to.equal('RATE_LIMITED');
      // The limit is the forwarded client's, not the proxy's (all handshakes come from 127.0.0.1).
      expect(await userOf(stack(), { ...via('203.0.113.8', '198.18.0.99'), token: stack().token('eve') })).to.equal('eve');
    });
  };

  describe("MAX_CONNECTIONS_PER_IP_PER_MIN=3 behind one proxy (v1's TRUST_PROXY=true)", () => {
    behindProxies({ TRUST_PROXY: 'true' }, (client) => [client]);
  });

  describe('MAX_CONNECTIONS_PER_IP_PER_MIN=3 behind two proxies (TRUST_PROXY_HOPS=2)', () => {
    behindProxies({ TRUST_PROXY_HOPS: '2' }, (client) => [client, '10.0.0.5']);
  });
});

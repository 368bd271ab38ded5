import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/config.js';

/** The least an operator must set for the default (local HS256) mode. */
const MINIMAL = { CHAT_SERVICE_URL: 'http://chat.internal:8080', JWT_SECRET: 'a-secret-of-16-chars-or-more' };

const load = (env: Record<string, string | undefined> = {}) => loadConfig({ ...MINIMAL, ...env });

/** The variable name, as a whole word, so `PORT` does not match `AUTH_SERVICE_PORT`-like names by accident. */
const naming = (variable: string) => new RegExp(`(^|[^A-Z_])${variable}([^A-Z_]|$)`);

describe('config: loadConfig', () => {
  describe('defaults', () => {
    it('fills every unset setting with the contract defaults', () => {
      const c = load();
      expect(c).to.deep.include({
        port: 3002,
        host: '0.0.0.0',
        authMode: 'local',
        presenceBroadcast: 'scoped',
        presenceStaleMs: 30000,
        typingTimeoutMs: 5000,
        membershipCacheTtlMs: 30000,
        maxMessageLength: 4000,
        maxPayloadBytes: 65536,
        idleTimeoutMs: 1800000,
        maxSocketsPerUser: 10,
        maxConnectionsPerIpPerMin: 120,
        trustProxyHops: 0,
        corsOrigins: [],
        pushApiKeys: [],
        shutdownTimeoutMs: 10000,
        logLevel: 'info',
      });
      expect(c.authMode === 'local' && c.jwt).to.deep.include({ algorithms: ['HS256'], userClaim: 'sub', key: { kind: 'secret', secret: MINIMAL.JWT_SECRET } });
      expect(c.authService).to.equal(undefined);
      expect(c.chatService).to.deep.equal({
        url: 'http://chat.internal:8080', timeoutMs: 2000, retries: 2, batchEndpoints: 'auto', batchWindowMs: 10, batchMax: 100,
      });
      expect(c.breaker).to.deep.equal({ failureThreshold: 5, halfOpenAfterMs: 10000 });
      expect(c.handshakeAdmission).to.deep.equal({ maxPending: 256, maxLoopDelayMs: 0, retryAfterMs: 1000 });
      expect(c.redisUrl).to.equal(undefined);
    });

    it('enables rate limits with an allowance for every event family', () => {
      const { rateLimit } = load();
      expect(rateLimit.enabled).to.equal(true);
      expect(rateLimit.families.messages).to.deep.equal({ points: 30, durationS: 10 });
      expect(Object.keys(rateLimit.families)).to.have.members(['messages', 'typing', 'receipts', 'rooms', 'presence', 'auth']);
      for (const limit of Object.values(rateLimit.families)) {
        expect(limit.points).to.be.above(0);
        expect(limit.durationS).to.be.above(0);
      }
    });

    it('treats blank values as unset', () => {
      expect(load({ PORT: '', LOG_LEVEL: '   ' })).to.include({ port: 3002, logLevel: 'info' });
    });

    it('gives each instance an id of its own unless INSTANCE_ID is set', () => {
      expect(load().instanceId).to.be.a('string').and.not.equal(load().instanceId);
      expect(load({ INSTANCE_ID: 'gw-7' }).instanceId).to.equal('gw-7');
    });
  });

  describe('parsing valid values', () => {
    it('reads PORT, per-family limits and the rate-limit switch', () => {
      const c = load({ PORT: '0', RATE_LIMIT_MESSAGES: '3/60', RATE_LIMIT_TYPING: '2/5', RATE_LIMIT_ENABLED: 'false' });
      expect(c.port).to.equal(0);
      expect(c.rateLimit.enabled).to.equal(false);
      expect(c.rateLimit.families.messages).to.deep.equal({ points: 3, durationS: 60 });
      expect(c.rateLimit.families.typing).to.deep.equal({ points: 2, durationS: 5 });
    });

    it('splits CORS_ORIGINS and PUSH_API_KEYS on commas, trimming blanks away', () => {
      const c = load({ CORS_ORIGINS: ' https://a.example ,https://b.example,, ', PUSH_API_KEYS: 'k1,k2' });
      expect(c.corsOrigins).to.deep.equal(['https://a.example', 'https://b.example']);
      expect(c.pushApiKeys).to.deep.equal(['k1', 'k2']);
    });

    it('turns literal \\n in JWT_PUBLIC_KEY into newlines (one-line .env files)', () => {
      const oneLine = '-----BEGIN PUBLIC KEY-----\\nMIIBIjANBgkq\\n-----END PUBLIC KEY-----';
      const c = loadConfig({ CHAT_SERVICE_URL: MINIMAL.CHAT_SERVICE_URL, JWT_ALGORITHMS: 'RS256', JWT_PUBLIC_KEY: oneLine });
      if (c.authMode !== 'local') throw new Error('expected AUTH_MODE=local');
      expect(c.jwt.key).to.deep.equal({ kind: 'publicKey', publicKey: '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----' });
      expect(c.jwt.algorithms).to.deep.equal(['RS256']);
    });

    it('drops a trailing slash from service URLs', () => {
      expect(load({ CHAT_SERVICE_URL: 'http://chat:8080/' }).chatService.url).to.equal('http://chat:8080');
    });

    it('accepts AUTH_MODE=remote with an AUTH_SERVICE_URL and no JWT key; verified tokens are trusted 60 s', () => {
      const c = loadConfig({ CHAT_SERVICE_URL: MINIMAL.CHAT_SERVICE_URL, AUTH_MODE: 'remote', AUTH_SERVICE_URL: 'http://auth:9000' });
      expect(c).to.deep.include({ authMode: 'remote', authCacheTtlMs: 60000 });
      expect(c.authService?.url).to.equal('http://auth:9000');
      expect(c).not.to.have.property('jwt');
    });

    it('reads AUTH_CACHE_TTL_MS in remote mode, 0 switching the cache off', () => {
      const remote = (ttl: string) => loadConfig({ ...MINIMAL, AUTH_MODE: 'remote', AUTH_SERVICE_URL: 'http://auth:9000', AUTH_CACHE_TTL_MS: ttl });
      expect(remote('5000')).to.include({ authCacheTtlMs: 5000 });
      expect(remote('0')).to.include({ authCacheTtlMs: 0 });
    });

    it('keeps AUTH_SERVICE_URL in local mode, for status updates', () => {
      expect(load({ AUTH_SERVICE_URL: 'http://auth:9000' }).authService).to.deep.equal({
        url: 'http://auth:9000', timeoutMs: 2000, retries: 2, batchEndpoints: 'auto',
      });
    });

    it('reads CHAT_BATCH_ENDPOINTS and AUTH_BATCH_ENDPOINTS as auto, true or false, in the usual boolean spellings', () => {
      const modes = (value: string) => {
        const c = load({ CHAT_BATCH_ENDPOINTS: value, AUTH_BATCH_ENDPOINTS: value, AUTH_SERVICE_URL: 'http://auth:9000' });
        return [c.chatService.batchEndpoints, c.authService?.batchEndpoints];
      };
      expect(modes('auto')).to.deep.equal(['auto', 'auto']);
      for (const yes of ['true', '1', 'yes']) expect(modes(yes), yes).to.deep.equal(['true', 'true']);
      for (const no of ['false', '0', 'no']) expect(modes(no), no).to.deep.equal(['false', 'false']);
    });

    it('reads the admission bounds of handshakes, 0 switching a signal off', () => {
      const c = load({ HANDSHAKE_MAX_PENDING: '0', HANDSHAKE_MAX_LOOP_DELAY_MS: '120', HANDSHAKE_RETRY_AFTER_MS: '250' });
      expect(c.handshakeAdmission).to.deep.equal({ maxPending: 0, maxLoopDelayMs: 120, retryAfterMs: 250 });
    });

    it('reads TRUST_PROXY_HOPS, and v1\'s TRUST_PROXY=true as one hop unless TRUST_PROXY_HOPS is set', () => {
      expect(load({ TRUST_PROXY_HOPS: '2' }).trustProxyHops).to.equal(2);
      expect(load({ TRUST_PROXY: 'true' }).trustProxyHops).to.equal(1);
      expect(load({ TRUST_PROXY: 'false' }).trustProxyHops).to.equal(0);
      expect(load({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '0' }).trustProxyHops).to.equal(0);
      expect(load({ TRUST_PROXY: 'yes', TRUST_PROXY_HOPS: '3' }).trustProxyHops).to.equal(3);
    });

    it('accepts a redis:// or rediss:// REDIS_URL', () => {
      expect(load({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).to.equal('redis://127.0.0.1:6379');
      expect(load({ REDIS_URL: 'rediss://cache:6380' }).redisUrl).to.equal('rediss://cache:6380');
    });
  });

  describe('invalid values stop start-up with a ConfigError naming the variable', () => {
    const cases: Array<[what: string, variable: string, env: Record<string, string | undefined>]> = [
      ['PORT that is not a number', 'PORT', { PORT: 'abc' }],
      ['PORT above 65535', 'PORT', { PORT: '70000' }],
      ['unknown AUTH_MODE', 'AUTH_MODE', { AUTH_MODE: 'foo' }],
      ['JWT_ALGORITHMS=none', 'JWT_ALGORITHMS', { JWT_ALGORITHMS: 'none' }],
      ['JWT_ALGORITHMS mixing HS and RS (key confusion)', 'JWT_ALGORITHMS', { JWT_ALGORITHMS: 'HS256,RS256', JWT_PUBLIC_KEY: 'pem' }],
      ['HS algorithms without JWT_SECRET', 'JWT_SECRET', { JWT_SECRET: undefined }],
      ['a JWT_SECRET too short to be safe', 'JWT_SECRET', { JWT_SECRET: 'short' }],
      ['RS256 without JWT_PUBLIC_KEY', 'JWT_PUBLIC_KEY', { JWT_ALGORITHMS: 'RS256' }],
      ['AUTH_MODE=remote without AUTH_SERVICE_URL', 'AUTH_SERVICE_URL', { AUTH_MODE: 'remote' }],
      ['AUTH_CACHE_TTL_MS that is negative', 'AUTH_CACHE_TTL_MS', { AUTH_MODE: 'remote', AUTH_SERVICE_URL: 'http://auth:9000', AUTH_CACHE_TTL_MS: '-1' }],
      ['AUTH_CACHE_TTL_MS that is not a number', 'AUTH_CACHE_TTL_MS', { AUTH_MODE: 'remote', AUTH_SERVICE_URL: 'http://auth:9000', AUTH_CACHE_TTL_MS: '1m' }],
      ['missing CHAT_SERVICE_URL', 'CHAT_SERVICE_URL', { CHAT_SERVICE_URL: undefined }],
      ['CHAT_SERVICE_URL that is not http(s)', 'CHAT_SERVICE_URL', { CHAT_SERVICE_URL: 'ftp://chat' }],
      ['REDIS_URL with an http scheme', 'REDIS_URL', { REDIS_URL: 'http://x' }],
      ['RATE_LIMIT_MESSAGES that is not POINTS/SECONDS', 'RATE_LIMIT_MESSAGES', { RATE_LIMIT_MESSAGES: 'abc' }],
      ['RATE_LIMIT_TYPING with zero points', 'RATE_LIMIT_TYPING', { RATE_LIMIT_TYPING: '0/10' }],
      ['RATE_LIMIT_ENABLED that is not a boolean', 'RATE_LIMIT_ENABLED', { RATE_LIMIT_ENABLED: 'maybe' }],
      ['CHAT_BATCH_ENDPOINTS that is neither auto nor a boolean', 'CHAT_BATCH_ENDPOINTS', { CHAT_BATCH_ENDPOINTS: 'sometimes' }],
      ['AUTH_BATCH_ENDPOINTS that is neither auto nor a boolean', 'AUTH_BATCH_ENDPOINTS', { AUTH_BATCH_ENDPOINTS: 'AUTO' }],
      ['IDLE_TIMEOUT_MS below its minimum', 'IDLE_TIMEOUT_MS', { IDLE_TIMEOUT_MS: '10' }],
      ['negative SHUTDOWN_TIMEOUT_MS', 'SHUTDOWN_TIMEOUT_MS', { SHUTDOWN_TIMEOUT_MS: '-1' }],
      ['unknown PRESENCE_BROADCAST', 'PRESENCE_BROADCAST', { PRESENCE_BROADCAST: 'everyone' }],
      ['unknown LOG_LEVEL', 'LOG_LEVEL', { LOG_LEVEL: 'loud' }],
      ['negative HANDSHAKE_MAX_PENDING', 'HANDSHAKE_MAX_PENDING', { HANDSHAKE_MAX_PENDING: '-1' }],
      ['HANDSHAKE_MAX_LOOP_DELAY_MS that is not a number', 'HANDSHAKE_MAX_LOOP_DELAY_MS', { HANDSHAKE_MAX_LOOP_DELAY_MS: '50ms' }],
      ['negative TRUST_PROXY_HOPS', 'TRUST_PROXY_HOPS', { TRUST_PROXY_HOPS: '-1' }],
      ['TRUST_PROXY that is not a boolean', 'TRUST_PROXY', { TRUST_PROXY: 'on' }],
      ['HANDSHAKE_RETRY_AFTER_MS of 0', 'HANDSHAKE_RETRY_AFTER_MS', { HANDSHAKE_RETRY_AFTER_MS: '0' }],
    ];
    for (const [what, variable, env] of cases) {
      it(`${what} → names ${variable}, in our words`, () => {
        const error = configErrorOf(env);
        expect(error.message).to.match(naming(variable));
        expect(error.problems, 'one problem per invalid variable').to.have.length(1);
        expectOurWords(error.problems[0]);
      });
    }
  });

  describe('every invalid variable at once', () => {
    it('lists them all in one ConfigError, each in our words with the value given', () => {
      const error = configErrorOf({
        PORT: '70000',
        MAX_SOCKETS_PER_USER: '-3',
        LOG_LEVEL: 'loud',
        RATE_LIMIT_MESSAGES: '0/10',
        REDIS_URL: 'http://x',
        CHAT_SERVICE_URL: undefined,
        JWT_SECRET: 'short',
      });
      expect(error.problems).to.deep.equal([
        'PORT must be an integer from 0 to 65535 (got "70000")',
        'CHAT_SERVICE_URL is required',
        'REDIS_URL must be a redis:// or rediss:// URL',
        'RATE_LIMIT_MESSAGES must be POINTS/SECONDS with both above 0, e.g. 30/10 (got "0/10")',
        'MAX_SOCKETS_PER_USER must be an integer of at least 1 (got "-3")',
        'LOG_LEVEL must be error, warn, info, http, verbose, debug or silly (got "loud")',
        'JWT_SECRET must be at least 16 characters',
      ]);
      expect(error.message.split('\n')).to.deep.equal([
        'Invalid configuration (7 variables):',
        ...error.problems.map((p) => `  - ${p}`),
      ]);
      for (const problem of error.problems) expectOurWords(problem);
    });

    it('never shows the value of a variable that may hold a credential', () => {
      const error = configErrorOf({ JWT_SECRET: 'short-secret', CHAT_SERVICE_URL: 'ftp://user:pass@chat' });
      expect(error.problems).to.have.length(2);
      expect(error.message).to.not.include('short-secret').and.not.include('user:pass');
    });

    it('checks what AUTH_MODE requires only when AUTH_MODE itself is valid', () => {
      const error = configErrorOf({ AUTH_MODE: 'remotely', JWT_SECRET: undefined, PORT: 'x' });
      expect(error.problems).to.deep.equal(['PORT must be an integer from 0 to 65535 (got "x")', 'AUTH_MODE must be local or remote (got "remotely")']);
    });

    it('does not ask for a JWT key while JWT_ALGORITHMS is invalid', () => {
      const error = configErrorOf({ JWT_ALGORITHMS: 'RS256,none', JWT_SECRET: undefined });
      expect(error.problems).to.have.length(1);
      expect(error.problems[0]).to.match(/^JWT_ALGORITHMS must be a comma-separated list of HS256, /);
    });
  });
});

/** The ConfigError that loading `env` (over MINIMAL) throws. */
function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    load(env);
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return e as ConfigError;
  }
  expect.fail('expected a ConfigError');
}

/** A problem in the gateway's words: the variable first, never zod's default messages. */
function expectOurWords(problem: string): void {
  expect(problem).to.match(/^[A-Z][A-Z0-9_]+ (must|is required)/);
  expect(problem).to.not.match(/expected|too small|too big|invalid input/i);
}

import { z } from 'zod';

/** Socket.IO event families that carry their own rate limit. */
export const RATE_LIMIT_FAMILIES = ['messages', 'typing', 'receipts', 'rooms', 'presence', 'auth'] as const;
export type RateLimitFamily = (typeof RATE_LIMIT_FAMILIES)[number];

/**
 * CHAT_BATCH_ENDPOINTS / AUTH_BATCH_ENDPOINTS: `auto` uses a service's batch endpoint while it
 * has one (single calls after a 404/405/501 there, probing again now and then); `true` always
 * batches, `false` never does.
 */
export const BATCH_ENDPOINTS_MODES = ['auto', 'true', 'false'] as const;
export type BatchEndpointsMode = (typeof BATCH_ENDPOINTS_MODES)[number];

/** A token-bucket-like allowance: `points` events per `durationS` seconds. */
export interface RateLimit {
  points: number;
  durationS: number;
}

/**
 * Every setting of the gateway, parsed once at start-up (contract section 7). What the
 * validation makes mandatory is mandatory in the type: `AUTH_MODE` decides which variant holds.
 */
export type GatewayConfig = CommonConfig & AuthConfig;

/** How handshake tokens are verified (AUTH_MODE), each mode with what it needs. */
export type AuthConfig =
  | {
      /** @default "local" */ authMode: 'local';
      jwt: JwtSettings;
      /** Optional in local mode: where users' statuses go when set. */
      authService?: AuthServiceSettings;
    }
  | {
      authMode: 'remote';
      /** POST /auth/verify, and users' statuses. */
      authService: AuthServiceSettings;
      /**
       * Longest a verified token is trusted without asking again (a revoked token stops working
       * within it); 0 = ask on every handshake. @default 60000
       */
      authCacheTtlMs: number;
    };

/** AUTH_MODE=local: the key follows from JWT_ALGORITHMS (a secret for HS*, else a public key). */
export interface JwtSettings {
  key: { kind: 'secret'; secret: string } | { kind: 'publicKey'; publicKey: string };
  /** @default ["HS256"] */ algorithms: string[];
  issuer?: string;
  audience?: string;
  /** @default "sub" */ userClaim: string;
}

/** The auth-service client (AUTH_SERVICE_URL and its policies). */
export type AuthServiceSettings = ServiceSettings & {
  /** PUT /users/status for many status updates at once. @default "auto" */ batchEndpoints: BatchEndpointsMode;
};

/** The settings that do not depend on AUTH_MODE. */
export interface CommonConfig {
  /** @default 3002 */ port: number;
  /** @default "0.0.0.0" */ host: string;
  /** Identifies this process in /health, logs and (in cluster mode) presence. @default random */
  instanceId: string;
  chatService: ServiceSettings & {
    /** POST /messages/batch and /receipts/batch. @default "auto" */ batchEndpoints: BatchEndpointsMode;
    /** @default 10 */ batchWindowMs: number;
    /** @default 100 */ batchMax: number;
  };
  serviceToken?: string;
  breaker: {
    /** @default 5 */ failureThreshold: number;
    /** @default 10000 */ halfOpenAfterMs: number;
  };
  redisUrl?: string;
  /**
   * Socket.IO Redis adapter: `classic` (PUBLISH/PSUBSCRIBE, any Redis) or `sharded`
   * (SPUBLISH/SSUBSCRIBE per room, Redis 7+: an instance only hears rooms it has members in).
   * @default "classic"
   */
  redisAdapter: 'classic' | 'sharded';
  /** @default "scoped" */ presenceBroadcast: 'scoped' | 'global';
  /** @default 30000 */ presenceStaleMs: number;
  /** @default 5000 */ typingTimeoutMs: number;
  /** Minimum gap between two relayed `typing` events of one user to one target. @default 1000 */
  typingThrottleMs: number;
  /** @default 30000 (0 = no cache) */ membershipCacheTtlMs: number;
  /** @default 4000 */ maxMessageLength: number;
  /** @default 65536 */ maxPayloadBytes: number;
  /** @default 1800000 */ idleTimeoutMs: number;
  /** @default ["text","image","file","audio","video","system"] */ messageTypes: string[];
  rateLimit: {
    /** @default true */ enabled: boolean;
    families: Record<RateLimitFamily, RateLimit>;
  };
  /**
   * Refused or invalid events within 10 s after which a socket is disconnected (flooding);
   * 0 = never. @default 50
   */
  floodDisconnectAfter: number;
  /** Engine.IO heartbeat: a socket that does not answer a ping within the timeout is closed. */
  /** @default 25000 */ pingIntervalMs: number;
  /** @default 20000 */ pingTimeoutMs: number;
  /** Bytes queued for one socket that does not read, beyond which it is disconnected. @default 4194304 */
  maxBufferedBytes: number;
  /**
   * Admission control of handshakes (contract section 1): beyond either bound new handshakes
   * fail at once with SERVER_BUSY and a jittered `retry_after_ms`, so those accepted finish quickly.
   */
  handshakeAdmission: {
    /**
     * Handshakes in progress at once (waiting on token verification, the socket cap); 0 = no
     * limit. The default is the auth-service client's connection pool (`undiciAdapter.ts`).
     * @default 256
     */
    maxPending: number;
    /** Event-loop delay in ms (mean over 200 ms); 0 = not watched. @default 0 */
    maxLoopDelayMs: number;
    /** `retry_after_ms` at light overload, before jitter; it grows with the overload. @default 1000 */
    retryAfterMs: number;
  };
  /** @default 10 */ maxSocketsPerUser: number;
  /** @default 120 */ maxConnectionsPerIpPerMin: number;
  /** Take the client address from X-Forwarded-For (behind a load balancer). @default false */
  trustProxy: boolean;
  /** Allowed browser origins; empty = any. */
  corsOrigins: string[];
  pushApiKeys: string[];
  /**
   * Key for the operations dashboard's API (`/admin/api/*`, header X-Admin-Key). Unset: any of
   * `pushApiKeys` is accepted; neither set: the dashboard API is disabled (404).
   */
  adminApiKey?: string;
  /** @default 10000 */ shutdownTimeoutMs: number;
  /** Told to clients in `server_shutdown`. @default 1000 */ reconnectAfterMs: number;
  sinks: { presenceEngineUrl?: string; aiEngineUrl?: string; quantumRoomEngineUrl?: string };
  /** @default "info" */ logLevel: string;
}

/** Settings of one backend service client. */
export interface ServiceSettings {
  url: string;
  /** Per attempt. @default 2000 */ timeoutMs: number;
  /** Extra attempts when a retry is allowed. @default 2 */ retries: number;
}

/** Thrown when the environment holds an invalid value; the message names the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const DEFAULT_RATE_LIMITS: Record<RateLimitFamily, string> = {
  messages: '30/10',
  typing: '30/10',
  receipts: '200/10',
  rooms: '30/10',
  presence: '30/10',
  auth: '5/60',
};

type Env = Record<string, string | undefined>;

/** Variables whose values never appear in an error message (they may hold credentials). */
const SECRET_NAME = /SECRET|TOKEN|KEY|PASSWORD|_URL$/;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const BOOLEAN_WORDS = ['true', 'false', '1', '0', 'yes', 'no'] as const;
const isTrueWord = (v: string) => v === 'true' || v === '1' || v === 'yes';
const bool = z.enum(BOOLEAN_WORDS).transform(isTrueWord);
/** `auto`, or a boolean in any spelling `bool` accepts. */
const batchEndpoints = z
  .enum(['auto', ...BOOLEAN_WORDS], { message: 'must be auto, true or false' })
  .transform((v): BatchEndpointsMode => (v === 'auto' ? 'auto' : isTrueWord(v) ? 'true' : 'false'));
const url = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
const rateLimit = z
  .string()
  .regex(/^\d+\/\d+$/, 'must be POINTS/SECONDS, e.g. 30/10')
  .transform((s) => {
    const [points, durationS] = s.split('/').map(Number);
    return { points, durationS } as RateLimit;
  })
  .refine((r) => r.points > 0 && r.durationS > 0, 'points and seconds must be positive');

/** Reads one variable through a schema, or its default; throws ConfigError naming it. */
function read<T>(env: Env, name: string, schema: z.ZodType<T, string>, fallback: string): T;
function read<T>(env: Env, name: string, schema: z.ZodType<T, string>): T | undefined;
function read<T>(env: Env, name: string, schema: z.ZodType<T, string>, fallback?: string): T | undefined {
  const raw = env[name]?.trim() ? env[name]!.trim() : fallback;
  if (raw === undefined) return undefined;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues[0]?.message ?? 'is invalid';
    const shown = SECRET_NAME.test(name) ? '' : `=${JSON.stringify(raw)}`;
    throw new ConfigError(`Invalid configuration: ${name}${shown} ${why}`);
  }
  return parsed.data;
}

/** Reads a variable that must be set; `when` says under which setting ("when AUTH_MODE=remote"). */
function required<T>(env: Env, name: string, schema: z.ZodType<T, string>, when = ''): T {
  const value = read(env, name, schema);
  if (value === undefined) throw new ConfigError(`Invalid configuration: ${name} is required${when && ` ${when}`}`);
  return value;
}

/** A PEM key may arrive with literal "\n" (one-line .env files cannot hold newlines). */
const pem = z.string().transform((k) => k.replace(/\\n/g, '\n'));

/** Builds the typed config from environment variables; throws ConfigError on the first bad one. */
export function loadConfig(env: Env = process.env): GatewayConfig {
  const common: CommonConfig = {
    port: read(env, 'PORT', int(0, 65535), '3002'),
    host: read(env, 'HOST', z.string().min(1), '0.0.0.0'),
    instanceId: read(env, 'INSTANCE_ID', z.string().regex(/^[\w.-]{1,64}$/, 'must be 1 to 64 letters, digits, dots or dashes')) ?? randomInstanceId(),
    chatService: {
      url: required(env, 'CHAT_SERVICE_URL', url),
      ...service(env, 'CHAT_SERVICE'),
      batchEndpoints: read(env, 'CHAT_BATCH_ENDPOINTS', batchEndpoints, 'auto'),
      batchWindowMs: read(env, 'CHAT_BATCH_WINDOW_MS', int(0, 1000), '10'),
      batchMax: read(env, 'CHAT_BATCH_MAX', int(1, 10000), '100'),
    },
    serviceToken: read(env, 'SERVICE_TOKEN', z.string()),
    breaker: {
      failureThreshold: read(env, 'BREAKER_FAILURE_THRESHOLD', int(1), '5'),
      halfOpenAfterMs: read(env, 'BREAKER_HALF_OPEN_AFTER_MS', int(1), '10000'),
    },
    redisUrl: read(env, 'REDIS_URL', z.url({ protocol: /^rediss?$/ })),
    redisAdapter: read(env, 'REDIS_ADAPTER', z.enum(['classic', 'sharded']), 'classic'),
    presenceBroadcast: read(env, 'PRESENCE_BROADCAST', z.enum(['scoped', 'global']), 'scoped'),
    presenceStaleMs: read(env, 'PRESENCE_STALE_MS', int(1000), '30000'),
    typingTimeoutMs: read(env, 'TYPING_TIMEOUT_MS', int(1), '5000'),
    typingThrottleMs: read(env, 'TYPING_THROTTLE_MS', int(0), '1000'),
    membershipCacheTtlMs: read(env, 'MEMBERSHIP_CACHE_TTL_MS', int(0), '30000'),
    maxMessageLength: read(env, 'MAX_MESSAGE_LENGTH', int(1), '4000'),
    maxPayloadBytes: read(env, 'MAX_PAYLOAD_BYTES', int(1024), '65536'),
    idleTimeoutMs: read(env, 'IDLE_TIMEOUT_MS', int(1000), '1800000'),
    messageTypes: read(env, 'MESSAGE_TYPES', list, 'text,image,file,audio,video,system'),
    rateLimit: {
      enabled: read(env, 'RATE_LIMIT_ENABLED', bool, 'true'),
      families: Object.fromEntries(
        RATE_LIMIT_FAMILIES.map((f) => [f, read(env, `RATE_LIMIT_${f.toUpperCase()}`, rateLimit, DEFAULT_RATE_LIMITS[f])]),
      ) as Record<RateLimitFamily, RateLimit>,
    },
    floodDisconnectAfter: read(env, 'FLOOD_DISCONNECT_AFTER', int(0), '50'),
    pingIntervalMs: read(env, 'PING_INTERVAL_MS', int(100), '25000'),
    pingTimeoutMs: read(env, 'PING_TIMEOUT_MS', int(100), '20000'),
    maxBufferedBytes: read(env, 'MAX_BUFFERED_BYTES', int(65536), '4194304'),
    handshakeAdmission: {
      maxPending: read(env, 'HANDSHAKE_MAX_PENDING', int(0), '256'),
      maxLoopDelayMs: read(env, 'HANDSHAKE_MAX_LOOP_DELAY_MS', int(0), '0'),
      retryAfterMs: read(env, 'HANDSHAKE_RETRY_AFTER_MS', int(1, 600_000), '1000'),
    },
    maxSocketsPerUser: read(env, 'MAX_SOCKETS_PER_USER', int(1), '10'),
    maxConnectionsPerIpPerMin: read(env, 'MAX_CONNECTIONS_PER_IP_PER_MIN', int(1), '120'),
    trustProxy: read(env, 'TRUST_PROXY', bool, 'false'),
    corsOrigins: read(env, 'CORS_ORIGINS', list, ''),
    pushApiKeys: read(env, 'PUSH_API_KEYS', list, ''),
    adminApiKey: read(env, 'ADMIN_API_KEY', z.string()),
    shutdownTimeoutMs: read(env, 'SHUTDOWN_TIMEOUT_MS', int(0), '10000'),
    reconnectAfterMs: read(env, 'RECONNECT_AFTER_MS', int(0), '1000'),
    sinks: {
      presenceEngineUrl: read(env, 'PRESENCE_ENGINE_URL', url),
      aiEngineUrl: read(env, 'AI_ENGINE_URL', url),
      quantumRoomEngineUrl: read(env, 'QUANTUM_ROOM_ENGINE_URL', url),
    },
    logLevel: read(env, 'LOG_LEVEL', z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']), 'info'),
  };
  return { ...common, ...authConfig(env) };
}

/** AUTH_MODE and what the chosen mode requires. */
function authConfig(env: Env): AuthConfig {
  const mode = read(env, 'AUTH_MODE', z.enum(['local', 'remote']), 'local');
  // Read in either mode, so an invalid value stops the start even where it is not used.
  const policies = { ...service(env, 'AUTH_SERVICE'), batchEndpoints: read(env, 'AUTH_BATCH_ENDPOINTS', batchEndpoints, 'auto') };
  if (mode === 'remote') {
    return {
      authMode: 'remote',
      authService: { url: required(env, 'AUTH_SERVICE_URL', url, 'when AUTH_MODE=remote'), ...policies },
      authCacheTtlMs: read(env, 'AUTH_CACHE_TTL_MS', int(0), '60000'),
    };
  }
  const authServiceUrl = read(env, 'AUTH_SERVICE_URL', url);
  return { authMode: 'local', jwt: jwtSettings(env), ...(authServiceUrl ? { authService: { url: authServiceUrl, ...policies } } : {}) };
}

const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const algorithmList = list.pipe(
  z.array(z.enum(JWT_ALGORITHMS, { message: `must list only ${JWT_ALGORITHMS.join(', ')}` })).min(1, 'must name an algorithm'),
);

/** A service's policies; its URL is read where the rules for it are known. */
function service(env: Env, prefix: string): Omit<ServiceSettings, 'url'> {
  return {
    timeoutMs: read(env, `${prefix}_TIMEOUT_MS`, int(1), '2000'),
    retries: read(env, `${prefix}_RETRIES`, int(0, 10), '2'),
  };
}

/** AUTH_MODE=local: the algorithms, and the key they need (never a mix: key confusion). */
function jwtSettings(env: Env): JwtSettings {
  const algorithms = read(env, 'JWT_ALGORITHMS', algorithmList, 'HS256');
  const symmetric = algorithms.some((a) => a.startsWith('HS'));
  if (symmetric && algorithms.some((a) => !a.startsWith('HS'))) {
    throw new ConfigError('Invalid configuration: JWT_ALGORITHMS must not mix HS* with RS*/PS*/ES* (key confusion)');
  }
  return {
    key: symmetric
      ? { kind: 'secret', secret: required(env, 'JWT_SECRET', z.string().min(16, 'must be at least 16 characters'), 'for HS* JWT_ALGORITHMS') }
      : { kind: 'publicKey', publicKey: required(env, 'JWT_PUBLIC_KEY', pem, 'for RS*/PS*/ES* JWT_ALGORITHMS') },
    algorithms,
    issuer: read(env, 'JWT_ISSUER', z.string()),
    audience: read(env, 'JWT_AUDIENCE', z.string()),
    userClaim: read(env, 'JWT_USER_CLAIM', z.string().min(1), 'sub'),
  };
}

function randomInstanceId(): string {
  return `gw-${Math.random().toString(36).slice(2, 10)}`;
}

import { z } from 'zod';
import { RATE_LIMIT_FAMILIES, type RateLimitFamily } from '../contract/index.js';

/** The event families are the contract's; re-exported for the limiter. */
export { RATE_LIMIT_FAMILIES, type RateLimitFamily };

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
  /**
   * Reverse proxies in front of the gateway that append to `X-Forwarded-For`: the client address
   * is the entry that many places from the right; 0 = the socket's own address. v1's
   * `TRUST_PROXY=true` means 1. @default 0
   */
  trustProxyHops: number;
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

/** Thrown when the environment holds invalid values: the message lists every one, each naming its variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    /** One sentence per invalid variable, starting with its name. */
    readonly problems: readonly string[],
  ) {
    const count = problems.length === 1 ? '1 variable' : `${problems.length} variables`;
    super(`Invalid configuration (${count}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
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

/**
 * A variable's schema and, in our words, what a value must be: the only thing an operator reads
 * when the schema refuses one (never the library's wording, whichever check failed).
 */
interface Rule<T> {
  schema: z.ZodType<T, string>;
  must: string;
}
const rule = <T>(schema: z.ZodType<T, string>, must: string): Rule<T> => ({ schema, must });

const int = (min: number, max?: number) =>
  rule(
    z
      .string()
      .regex(/^-?\d+$/)
      .transform(Number)
      .pipe(z.number().int().min(min).max(max ?? Number.MAX_SAFE_INTEGER)),
    max === undefined ? `must be an integer of at least ${min}` : `must be an integer from ${min} to ${max}`,
  );
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  rule(z.enum(values), `must be ${values.slice(0, -1).join(', ')} or ${values.at(-1)}`);
const BOOLEAN_WORDS = ['true', 'false', '1', '0', 'yes', 'no'] as const;
const isTrueWord = (v: string) => v === 'true' || v === '1' || v === 'yes';
const bool = rule(z.enum(BOOLEAN_WORDS).transform(isTrueWord), 'must be true or false (or 1/0, yes/no)');
/** `auto`, or a boolean in any spelling `bool` accepts. */
const batchEndpoints = rule(
  z.enum(['auto', ...BOOLEAN_WORDS]).transform((v): BatchEndpointsMode => (v === 'auto' ? 'auto' : isTrueWord(v) ? 'true' : 'false')),
  'must be auto, true or false',
);
const url = rule(
  z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
  'must be an http:// or https:// URL',
);
const commaList = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
const list = rule(commaList, 'must be a comma-separated list');
const text = rule(z.string(), 'must be text');
const rateLimit = rule(
  z
    .string()
    .regex(/^\d+\/\d+$/)
    .transform((s) => {
      const [points, durationS] = s.split('/').map(Number);
      return { points, durationS } as RateLimit;
    })
    .refine((r) => r.points > 0 && r.durationS > 0),
  'must be POINTS/SECONDS with both above 0, e.g. 30/10',
);
/** A PEM key may arrive with literal "\n" (one-line .env files cannot hold newlines). */
const pem = rule(
  z.string().transform((k) => k.replace(/\\n/g, '\n')),
  'must be a PEM public key',
);

/**
 * Reads the environment, recording every invalid variable instead of stopping at the first, so
 * an operator fixes them all in one go. A variable that fails reads as its default (or unset),
 * so the rest is checked as if it were fixed; `loadConfig` throws before any of it is used.
 */
class EnvReader {
  readonly problems: string[] = [];
  private readonly invalid = new Set<string>();

  constructor(private readonly env: Env) {}

  /** One variable through its rule, or its default. */
  read<T>(name: string, spec: Rule<T>, fallback: string): T;
  read<T>(name: string, spec: Rule<T>): T | undefined;
  read<T>(name: string, { schema, must }: Rule<T>, fallback?: string): T | undefined {
    const given = this.env[name]?.trim();
    if (!given) return fallback === undefined ? undefined : schema.parse(fallback);
    const parsed = schema.safeParse(given);
    if (parsed.success) return parsed.data;
    this.problem(name, `${name} ${must}${SECRET_NAME.test(name) ? '' : ` (got ${JSON.stringify(given)})`}`);
    return fallback === undefined ? undefined : schema.parse(fallback);
  }

  /**
   * A variable that must be set; `when` says under which setting ("when AUTH_MODE=remote").
   * When it is missing or invalid the value returned is never used: `loadConfig` throws.
   */
  required<T>(name: string, spec: Rule<T>, when = ''): T {
    const value = this.read(name, spec);
    if (value === undefined && !this.failed(name)) this.problem(name, `${name} is required${when && ` ${when}`}`);
    return value as T;
  }

  /** Whether `name` was read and refused (what depends on it is not checked further). */
  failed(name: string): boolean {
    return this.invalid.has(name);
  }

  problem(name: string, sentence: string): void {
    this.invalid.add(name);
    this.problems.push(sentence);
  }
}

/** Builds the typed config from environment variables; throws one ConfigError listing every bad one. */
export function loadConfig(env: Env = process.env): GatewayConfig {
  const vars = new EnvReader(env);
  const common = commonConfig(vars);
  const auth = authConfig(vars);
  if (vars.problems.length > 0 || auth === undefined) throw new ConfigError(vars.problems);
  return { ...common, ...auth };
}

/** The settings that do not depend on AUTH_MODE. */
function commonConfig(vars: EnvReader): CommonConfig {
  return {
    port: vars.read('PORT', int(0, 65535), '3002'),
    host: vars.read('HOST', text, '0.0.0.0'),
    instanceId:
      vars.read('INSTANCE_ID', rule(z.string().regex(/^[\w.-]{1,64}$/), 'must be 1 to 64 letters, digits, dots or dashes')) ?? randomInstanceId(),
    chatService: {
      url: vars.required('CHAT_SERVICE_URL', url),
      ...service(vars, 'CHAT_SERVICE'),
      batchEndpoints: vars.read('CHAT_BATCH_ENDPOINTS', batchEndpoints, 'auto'),
      batchWindowMs: vars.read('CHAT_BATCH_WINDOW_MS', int(0, 1000), '10'),
      batchMax: vars.read('CHAT_BATCH_MAX', int(1, 10000), '100'),
    },
    serviceToken: vars.read('SERVICE_TOKEN', text),
    breaker: {
      failureThreshold: vars.read('BREAKER_FAILURE_THRESHOLD', int(1), '5'),
      halfOpenAfterMs: vars.read('BREAKER_HALF_OPEN_AFTER_MS', int(1), '10000'),
    },
    redisUrl: vars.read('REDIS_URL', rule(z.url({ protocol: /^rediss?$/ }), 'must be a redis:// or rediss:// URL')),
    redisAdapter: vars.read('REDIS_ADAPTER', oneOf(['classic', 'sharded']), 'classic'),
    presenceBroadcast: vars.read('PRESENCE_BROADCAST', oneOf(['scoped', 'global']), 'scoped'),
    presenceStaleMs: vars.read('PRESENCE_STALE_MS', int(1000), '30000'),
    typingTimeoutMs: vars.read('TYPING_TIMEOUT_MS', int(1), '5000'),
    typingThrottleMs: vars.read('TYPING_THROTTLE_MS', int(0), '1000'),
    membershipCacheTtlMs: vars.read('MEMBERSHIP_CACHE_TTL_MS', int(0), '30000'),
    maxMessageLength: vars.read('MAX_MESSAGE_LENGTH', int(1), '4000'),
    maxPayloadBytes: vars.read('MAX_PAYLOAD_BYTES', int(1024), '65536'),
    idleTimeoutMs: vars.read('IDLE_TIMEOUT_MS', int(1000), '1800000'),
    messageTypes: vars.read('MESSAGE_TYPES', list, 'text,image,file,audio,video,system'),
    rateLimit: {
      enabled: vars.read('RATE_LIMIT_ENABLED', bool, 'true'),
      families: Object.fromEntries(
        RATE_LIMIT_FAMILIES.map((f) => [f, vars.read(`RATE_LIMIT_${f.toUpperCase()}`, rateLimit, DEFAULT_RATE_LIMITS[f])]),
      ) as Record<RateLimitFamily, RateLimit>,
    },
    floodDisconnectAfter: vars.read('FLOOD_DISCONNECT_AFTER', int(0), '50'),
    pingIntervalMs: vars.read('PING_INTERVAL_MS', int(100), '25000'),
    pingTimeoutMs: vars.read('PING_TIMEOUT_MS', int(100), '20000'),
    maxBufferedBytes: vars.read('MAX_BUFFERED_BYTES', int(65536), '4194304'),
    handshakeAdmission: {
      maxPending: vars.read('HANDSHAKE_MAX_PENDING', int(0), '256'),
      maxLoopDelayMs: vars.read('HANDSHAKE_MAX_LOOP_DELAY_MS', int(0), '0'),
      retryAfterMs: vars.read('HANDSHAKE_RETRY_AFTER_MS', int(1, 600_000), '1000'),
    },
    maxSocketsPerUser: vars.read('MAX_SOCKETS_PER_USER', int(1), '10'),
    maxConnectionsPerIpPerMin: vars.read('MAX_CONNECTIONS_PER_IP_PER_MIN', int(1), '120'),
    trustProxyHops: vars.read('TRUST_PROXY_HOPS', int(0, 32)) ?? (vars.read('TRUST_PROXY', bool, 'false') ? 1 : 0),
    corsOrigins: vars.read('CORS_ORIGINS', list, ''),
    pushApiKeys: vars.read('PUSH_API_KEYS', list, ''),
    adminApiKey: vars.read('ADMIN_API_KEY', text),
    shutdownTimeoutMs: vars.read('SHUTDOWN_TIMEOUT_MS', int(0), '10000'),
    reconnectAfterMs: vars.read('RECONNECT_AFTER_MS', int(0), '1000'),
    sinks: {
      presenceEngineUrl: vars.read('PRESENCE_ENGINE_URL', url),
      aiEngineUrl: vars.read('AI_ENGINE_URL', url),
      quantumRoomEngineUrl: vars.read('QUANTUM_ROOM_ENGINE_URL', url),
    },
    logLevel: vars.read('LOG_LEVEL', oneOf(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']), 'info'),
  };
}

/** AUTH_MODE and what the chosen mode requires; undefined when AUTH_MODE itself is invalid (what it requires is unknown). */
function authConfig(vars: EnvReader): AuthConfig | undefined {
  const mode = vars.read('AUTH_MODE', oneOf(['local', 'remote']), 'local');
  // Read in either mode, so an invalid value stops the start even where it is not used.
  const policies = { ...service(vars, 'AUTH_SERVICE'), batchEndpoints: vars.read('AUTH_BATCH_ENDPOINTS', batchEndpoints, 'auto') };
  if (vars.failed('AUTH_MODE')) return undefined;
  if (mode === 'remote') {
    return {
      authMode: 'remote',
      authService: { url: vars.required('AUTH_SERVICE_URL', url, 'when AUTH_MODE=remote'), ...policies },
      authCacheTtlMs: vars.read('AUTH_CACHE_TTL_MS', int(0), '60000'),
    };
  }
  const authServiceUrl = vars.read('AUTH_SERVICE_URL', url);
  return { authMode: 'local', jwt: jwtSettings(vars), ...(authServiceUrl ? { authService: { url: authServiceUrl, ...policies } } : {}) };
}

const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
const algorithmList = rule(
  commaList.pipe(z.array(z.enum(JWT_ALGORITHMS)).min(1)),
  `must be a comma-separated list of ${JWT_ALGORITHMS.join(', ')}`,
);

/** A service's policies; its URL is read where the rules for it are known. */
function service(vars: EnvReader, prefix: string): Omit<ServiceSettings, 'url'> {
  return {
    timeoutMs: vars.read(`${prefix}_TIMEOUT_MS`, int(1), '2000'),
    retries: vars.read(`${prefix}_RETRIES`, int(0, 10), '2'),
  };
}

/** AUTH_MODE=local: the algorithms, and the key they need (never a mix: key confusion). */
function jwtSettings(vars: EnvReader): JwtSettings {
  const algorithms: string[] = vars.read('JWT_ALGORITHMS', algorithmList, 'HS256');
  const symmetric = algorithms.some((a) => a.startsWith('HS'));
  if (symmetric && algorithms.some((a) => !a.startsWith('HS'))) {
    vars.problem('JWT_ALGORITHMS', 'JWT_ALGORITHMS must not mix HS* with RS*/PS*/ES* (key confusion)');
  }
  const settings = {
    algorithms,
    issuer: vars.read('JWT_ISSUER', text),
    audience: vars.read('JWT_AUDIENCE', text),
    userClaim: vars.read('JWT_USER_CLAIM', text, 'sub'),
  };
  // Which key is needed follows from the algorithms: unknown while they are invalid.
  if (vars.failed('JWT_ALGORITHMS')) return { ...settings, key: { kind: 'secret', secret: '' } };
  return {
    ...settings,
    key: symmetric
      ? { kind: 'secret', secret: vars.required('JWT_SECRET', rule(z.string().min(16), 'must be at least 16 characters'), 'for HS* JWT_ALGORITHMS') }
      : { kind: 'publicKey', publicKey: vars.required('JWT_PUBLIC_KEY', pem, 'for RS*/PS*/ES* JWT_ALGORITHMS') },
  };
}

function randomInstanceId(): string {
  return `gw-${Math.random().toString(36).slice(2, 10)}`;
}

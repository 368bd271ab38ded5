import type { Express } from 'express';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { USER_STATUSES, type UserStatus } from '../clients/AuthClient.js';
import {
  FaultInjector,
  createServiceApp,
  fail,
  ok,
  parseThen,
  sendOutcome,
  startService,
  type ListenOptions,
  type Outcome,
  type RecordedRequest,
  type RunningServer,
} from './serviceKit.js';

/** Options of the reference auth-service. */
export interface AuthServiceOptions {
  /** HS256 secret shared with the gateway (its `JWT_SECRET`). */
  jwtSecret: string;
  /** When set, every call but `GET /health` needs `Authorization: Bearer {serviceToken}`. */
  serviceToken?: string;
  /** `iss` of issued tokens, checked by `/auth/verify`. */
  issuer?: string;
  /** `aud` of issued tokens, checked by `/auth/verify`. */
  audience?: string;
  /** Lifetime of issued tokens. @default 3600 */
  tokenTtlS?: number;
  /**
   * Serve `PUT /users/status` (many updates at once); without it that path answers 404, as an
   * auth-service that never had it would.
   * @default true
   */
  statusBatchEndpoint?: boolean;
}

/** A user's last reported status. */
export interface StatusRecord {
  status: UserStatus;
  status_text?: string;
  last_seen?: string;
  /** When the service received it (ISO). */
  at: string;
}

/** One status update (`PUT /users/{user_id}/status`, or an item of `PUT /users/status`), in order of arrival. */
export interface StatusChange extends StatusRecord {
  user_id: string;
}

/** The reference auth-service: its app and its observable state. */
export interface AuthService {
  app: Express;
  requests: RecordedRequest[];
  faults: FaultInjector;
  /** Current status per user id. */
  statuses: Map<string, StatusRecord>;
  statusHistory: StatusChange[];
  /**
   * Signs an HS256 token with `sub: userId` and `exp` `ttlS` seconds from now (negative: already expired;
   * default `tokenTtlS`), plus `iss`/`aud` when configured. `extraClaims` go in last, so they may
   * replace `sub` or `exp` (`undefined` leaves a claim out).
   */
  issueToken(userId: string, ttlS?: number, extraClaims?: Record<string, unknown>): string;
}

const USER_ID = z.string().regex(/^[\w.@-]{1,128}$/, 'invalid user id');
const devTokenBody = z.object({ user_id: USER_ID, ttl_s: z.number().int().positive().max(30 * 86_400).optional() });
const verifyBody = z.object({ token: z.string().min(1) });
/** How many updates one `PUT /users/status` may carry. */
const STATUS_BATCH_MAX = 1000;
const statusBody = z.object({
  status: z.enum(USER_STATUSES),
  status_text: z.string().max(256).optional(),
  last_seen: z.iso.datetime({ offset: true }).optional(),
});
const statusBatchBody = z.object({ updates: z.array(statusBody.extend({ user_id: USER_ID })).max(STATUS_BATCH_MAX) });

/** Builds the reference auth-service (contract section 6) without listening. */
export function createAuthService(opts: AuthServiceOptions): AuthService {
  const requests: RecordedRequest[] = [];
  const faults = new FaultInjector();
  const statuses = new Map<string, StatusRecord>();
  const statusHistory: StatusChange[] = [];
  const issueToken: AuthService['issueToken'] = (userId, ttlS, extraClaims) =>
    signToken(opts, userId, ttlS, extraClaims).token;
  const verify = tokenVerifier(opts);

  const app = createServiceApp(
    { name: 'auth-service', serviceToken: opts.serviceToken, requests, faults, idParams: ['user_id'] },
    (app) => {
      app.post('/auth/dev-token', (req, res) => {
        sendOutcome(res, parseThen(devTokenBody, req.body, ({ user_id, ttl_s }) => devToken(user_id, ttl_s)));
      });
      app.post('/auth/verify', (req, res) => {
        sendOutcome(res, parseThen(verifyBody, req.body, ({ token }) => verify(token)));
      });
      // Many users' updates at once; recorded in order, exactly as the single endpoint records each.
      if (opts.statusBatchEndpoint ?? true) {
        app.put('/users/status', (req, res) => {
          sendOutcome(res, parseThen(statusBatchBody, req.body, ({ updates }) => {
            for (const { user_id, ...change } of updates) recordStatus(user_id, change);
            return ok(undefined, 204);
          }));
        });
      }
      app.put('/users/:user_id/status', (req, res) => {
        sendOutcome(res, parseThen(statusBody, req.body, (change) => recordStatus(req.params.user_id, change)));
      });
      app.get('/users/:user_id/status', (req, res) => {
        const record = statuses.get(req.params.user_id);
        const found = record && ok({ user_id: req.params.user_id, ...record });
        sendOutcome(res, found || fail(404, 'NOT_FOUND', 'no status for this user'));
      });
    },
  );

  function devToken(user_id: string, ttl_s: number | undefined): Outcome<DevToken> {
    const { token, exp } = signToken(opts, user_id, ttl_s);
    return ok({ token, user_id, expires_at: isoFromExp(exp) });
  }

  function recordStatus(user_id: string, change: Omit<StatusRecord, 'at'>): Outcome<undefined> {
    const record: StatusRecord = { ...change, at: new Date().toISOString() };
    statuses.set(user_id, record);
    statusHistory.push({ user_id, ...record });
    return ok(undefined, 204);
  }

  return { app, requests, faults, statuses, statusHistory, issueToken };
}

/** Starts the reference auth-service on `opts.port` (default: any free port) of `opts.host` (default 127.0.0.1). */
export function startAuthService(opts: AuthServiceOptions & ListenOptions): Promise<AuthService & RunningServer> {
  return startService(createAuthService(opts), opts);
}

function signToken(
  opts: AuthServiceOptions,
  userId: string,
  ttlS = opts.tokenTtlS ?? 3600,
  extraClaims: Record<string, unknown> = {},
): { token: string; exp: number } {
  const exp = Math.floor(Date.now() / 1000) + ttlS;
  const claims = Object.entries({ sub: userId, exp, ...extraClaims }).filter(([, value]) => value !== undefined);
  const token = jwt.sign(Object.fromEntries(claims), opts.jwtSecret, {
    algorithm: 'HS256',
    ...(opts.issuer ? { issuer: opts.issuer } : {}),
    ...(opts.audience ? { audience: opts.audience } : {}),
  });
  return { token, exp };
}

type DevToken = { token: string; user_id: string; expires_at: string };
type Verified = Outcome<{ user_id: string; expires_at: string }>;

function tokenVerifier(opts: AuthServiceOptions): (token: string) => Verified {
  return (token) => {
    try {
      const payload = jwt.verify(token, opts.jwtSecret, {
        algorithms: ['HS256'],
        issuer: opts.issuer,
        audience: opts.audience,
      });
      return verified(payload);
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) return fail(401, 'AUTH_EXPIRED', 'token expired');
      return fail(401, 'AUTH_INVALID', 'invalid token');
    }
  };
}

/** The gateway's rules: `exp` required; user id from `sub`, else `user_id`, else `id`. */
function verified(payload: string | jwt.JwtPayload): Verified {
  if (typeof payload === 'string' || typeof payload.exp !== 'number') {
    return fail(401, 'AUTH_INVALID', 'token has no exp');
  }
  const userId: unknown = payload.sub ?? payload.user_id ?? payload.id;
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 128) {
    return fail(401, 'AUTH_INVALID', 'token names no user');
  }
  return ok({ user_id: userId, expires_at: isoFromExp(payload.exp) });
}

function isoFromExp(exp: number): string {
  return new Date(exp * 1000).toISOString();
}

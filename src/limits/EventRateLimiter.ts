import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RATE_LIMIT_FAMILIES, type RateLimit, type RateLimitFamily } from '../config/config.js';
import { errors } from '../errors/GatewayError.js';
import type { Metrics } from '../observability/metrics.js';

/** Builds the limiter of one family; the memory one by default (Redis joins in cluster mode). */
export type LimiterFactory = (family: string, limit: RateLimit) => RateLimiterAbstract;

export const memoryLimiter: LimiterFactory = (family, limit) =>
  new RateLimiterMemory({ keyPrefix: family, points: limit.points, duration: limit.durationS });

/**
 * Limits shared by every instance through Redis, so opening sockets on several instances does
 * not multiply a user's allowance. While Redis is unreachable each instance falls back to its
 * own memory limiter instead of refusing or waiting.
 */
export const redisLimiter =
  (client: Redis, keyPrefix: string): LimiterFactory =>
  (family, limit) =>
    new RateLimiterRedis({
      storeClient: client,
      keyPrefix: `${keyPrefix}:rl:${family}`,
      points: limit.points,
      duration: limit.durationS,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memoryLimiter(family, limit) as RateLimiterMemory,
    });

/** Per-user allowances per event family (rate-limiter-flexible). */
export class EventRateLimiter {
  private readonly limiters: Map<RateLimitFamily, RateLimiterAbstract>;

  constructor(
    private readonly settings: { enabled: boolean; families: Record<RateLimitFamily, RateLimit> },
    private readonly metrics: Metrics,
    factory: LimiterFactory = memoryLimiter,
  ) {
    this.limiters = new Map(RATE_LIMIT_FAMILIES.map((f) => [f, factory(f, settings.families[f])]));
  }

  /** Spends one point of `userId`'s allowance; rejects with RATE_LIMITED when none is left. */
  async consume(family: RateLimitFamily, userId: string): Promise<void> {
    if (!this.settings.enabled) return;
    try {
      await this.limiters.get(family)!.consume(userId);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      this.metrics.rateLimited.inc({ family });
      throw errors.rateLimited(Math.max(1, Math.ceil(res.msBeforeNext)));
    }
  }
}

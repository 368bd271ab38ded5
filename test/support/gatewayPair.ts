import { requireRedis, startRedis, type RedisServer } from './redis.js';
import { startStack, type Stack } from './stack.js';

/** Two in-process gateways on one Redis; `b` uses `a`'s reference services. */
export interface GatewayPair {
  a: Stack;
  b: Stack;
}

/**
 * Starts two gateways sharing a real Redis (a Redis of its own per enclosing `describe`) before
 * its tests and stops them after. Lighter than `startCluster`'s processes, for the behaviour of
 * two instances rather than of the process. Returns a getter, since the pair exists only once
 * the hook ran.
 */
export function useGatewayPair(env: Record<string, string>): () => GatewayPair {
  let redis: RedisServer | undefined;
  let a: Stack | undefined;
  let b: Stack | undefined;
  before(async function () {
    requireRedis(this);
    redis = await startRedis();
    a = await startStack({ ...env, REDIS_URL: redis.url, INSTANCE_ID: 'gw-a' });
    b = await startStack({ ...env, REDIS_URL: redis.url, INSTANCE_ID: 'gw-b', CHAT_SERVICE_URL: a.chat.url, AUTH_SERVICE_URL: a.auth.url });
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
    await redis?.stop();
  });
  return () => {
    if (!a || !b) throw new Error('the gateways are not running (use them inside a test)');
    return { a, b };
  };
}

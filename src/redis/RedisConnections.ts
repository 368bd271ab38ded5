import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger.js';

/** Hash tag shared by every key, so multi-key scripts stay in one slot on a Redis Cluster. */
export const KEY_PREFIX = '{chatgw}';

/**
 * The three Redis connections of cluster mode, created and closed by the composition root and
 * handed to the drivers (which never own them): commands (presence, rate limits), and the
 * Socket.IO adapter's publisher and subscriber.
 */
export class RedisConnections {
  readonly commands: Redis;
  readonly pub: Redis;
  readonly sub: Redis;

  constructor(
    url: string,
    private readonly logger: Logger,
    /** Called when the command connection is ready again after a loss (presence repair). */
    onReconnect: () => void,
  ) {
    const base: RedisOptions = {
      connectionName: 'chat-gateway',
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    };
    // Commands fail fast while Redis is down instead of queueing without bound.
    this.commands = new Redis(url, { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    // The adapter's publishes are fire-and-forget; a short queue covers a blip, then they are dropped.
    this.pub = new Redis(url, { ...base, maxRetriesPerRequest: 2 });
    this.sub = new Redis(url, base);
    wrapPublish(this.pub, logger);
    let lost = false;
    for (const [name, client] of Object.entries({ commands: this.commands, pub: this.pub, sub: this.sub })) {
      client.on('error', (e: Error) => logger.warn('redis error', { connection: name, error: e.message }));
    }
    this.commands.on('close', () => (lost = true));
    this.commands.on('ready', () => {
      logger.info('redis ready');
      if (lost) onReconnect();
      lost = false;
    });
  }

  /** True while commands can be sent. */
  get ready(): boolean {
    return this.commands.status === 'ready';
  }

  /** Resolves once the command connection is ready, or after `timeoutMs` (the gateway starts anyway). */
  async waitReady(timeoutMs: number): Promise<boolean> {
    if (this.ready) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.commands.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.commands, this.pub, this.sub].map((c) => c.quit().catch(() => c.disconnect())));
  }
}

/**
 * Two things about the adapter's publishes. They leave in one write per tick: the relays of one
 * stored batch are published together, and corking the connection until the next tick costs
 * less than ioredis' auto-pipelining (a pipeline object, its promises and a copy per tick).
 * And the adapter does not handle the promise: while Redis is down that would be an unhandled
 * rejection per broadcast. Local delivery already happened, so log and go on.
 */
function wrapPublish(pub: Redis, logger: Logger): void {
  const target = pub as unknown as Record<'publish' | 'spublish', (channel: string, message: string | Buffer) => Promise<number>>;
  let corked: Redis['stream'] | undefined;
  const uncork = () => {
    corked?.uncork();
    corked = undefined;
  };
  for (const name of ['publish', 'spublish'] as const) {
    const send = target[name].bind(pub);
    target[name] = (channel, message) => {
      // Only a ready connection writes at once; otherwise ioredis queues the command itself.
      if (!corked && pub.status === 'ready') {
        corked = pub.stream;
        corked.cork();
        process.nextTick(uncork);
      }
      return send(channel, message).catch((e: Error) => {
        logger.debug('redis publish dropped', { error: e.message });
        return 0;
      });
    };
  }
}

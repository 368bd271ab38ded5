import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { createGateway, type Gateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { startAuthService, type AuthServiceOptions } from '../../src/reference/authService.js';
import { startChatService, type ChatServiceOptions } from '../../src/reference/chatService.js';

export const TEST_SECRET = 'test-secret-of-at-least-16-chars';

export type AuthStandIn = Awaited<ReturnType<typeof startAuthService>>;
export type ChatStandIn = Awaited<ReturnType<typeof startChatService>>;

/** A real gateway on a loopback port in front of real reference services on theirs. */
export interface Stack {
  gateway: Gateway;
  url: string;
  auth: AuthStandIn;
  chat: ChatStandIn;
  /** A valid token for a user, from the reference auth-service. */
  token(userId: string, ttlS?: number, extraClaims?: Record<string, unknown>): string;
  /** A connected socket.io-client for the user, resolved after `connected`. */
  connect(userId: string, opts?: ConnectOptions): Promise<ClientSocket>;
  /** A raw client that has not connected yet (for handshake tests). */
  client(opts: ConnectOptions & { token?: string }): ClientSocket;
  stop(): Promise<void>;
}

export interface ConnectOptions {
  transports?: ('websocket' | 'polling')[];
  extraHeaders?: Record<string, string>;
  query?: Record<string, string>;
  auth?: Record<string, unknown>;
  ttlS?: number;
}

export interface StackOptions {
  /** The gateway's logger, owned by the caller (`stop()` leaves it open); by default a silent one (TEST_LOGS=1 prints it). */
  logger?: Logger;
  /** Options of the reference auth-service (its JWT secret is the stack's). */
  authService?: Omit<AuthServiceOptions, 'jwtSecret'>;
  chatService?: ChatServiceOptions;
}

/** Starts services and a gateway; `env` overrides the gateway's configuration. */
export async function startStack(env: Record<string, string> = {}, opts: StackOptions = {}): Promise<Stack> {
  const auth = await startAuthService({ ...opts.authService, jwtSecret: TEST_SECRET });
  const chat = await startChatService(opts.chatService);
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_SECRET,
    AUTH_SERVICE_URL: auth.url,
    CHAT_SERVICE_URL: chat.url,
    LOG_LEVEL: 'error',
    ...env,
  });
  const logger = opts.logger ?? createLogger({ level: config.logLevel, service: 'test', instanceId: config.instanceId, silent: !process.env.TEST_LOGS });
  const gateway = createGateway(config, { logger });
  const port = await gateway.listen();
  const url = `http://127.0.0.1:${port}`;
  const sockets = new Set<ClientSocket>();

  const client = (opts: ConnectOptions & { token?: string }) => {
    const socket = connectClient(url, {
      transports: opts.transports ?? ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: opts.auth ?? (opts.token !== undefined ? { token: opts.token } : {}),
      extraHeaders: opts.extraHeaders,
      query: opts.query,
    });
    sockets.add(socket);
    return socket;
  };

  return {
    gateway,
    url,
    auth,
    chat,
    token: (userId, ttlS, extra) => auth.issueToken(userId, ttlS, extra),
    client,
    async connect(userId, opts = {}) {
      const socket = client({ ...opts, token: auth.issueToken(userId, opts.ttlS) });
      await new Promise<void>((resolve, reject) => {
        socket.once('connected', () => resolve());
        socket.once('connect_error', reject);
      });
      return socket;
    },
    async stop() {
      for (const s of sockets) s.disconnect();
      await gateway.stop();
      await Promise.all([auth.close(), chat.close()]);
    },
  };
}

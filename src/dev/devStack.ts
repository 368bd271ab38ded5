/**
 * `npm run dev`: the reference auth-service and chat-service, the gateway with in-memory
 * presence and its dashboard, demo users and a room, the demo web app, and a scripted demo client
 * that shows a message round trip. Everything is configured with embedded defaults; environment variables
 * still override them. `startDevStack(env)` starts the same in-process (tests use port 0 everywhere).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import { createGateway, type Gateway } from '../app.js';
import { loadConfig } from '../config/config.js';
import { sendError } from '../http/httpErrors.js';
import { createLogger } from '../observability/logger.js';
import { startAuthService } from '../reference/authService.js';
import { startChatService } from '../reference/chatService.js';
import { startHttp, type RunningServer } from '../reference/serviceKit.js';
import { runDemo } from './demoClient.js';

const DEV_SECRET = 'dev-secret-change-me-0123456789';
/** The dashboard's key in the dev stack: fixed, so a browser tab that kept it still works after a restart. */
const DEV_ADMIN_KEY = 'dev-admin-key';
const DEMO_USERS = ['alice', 'bob', 'carol'];
const DEMO_ROOM = 'general';
/** Lifetime of the tokens the web app's login hands out; the typed client refreshes them before expiry. */
const WEB_TOKEN_TTL_S = 3600;
const ROOT = resolve(import.meta.dirname, '../..');
const WEB_DIR = join(ROOT, 'examples/web');
const DOCS_DIR = join(ROOT, 'docs');
/** The typed client's workspace package (packages/client), as an app installs it. */
const CLIENT_PACKAGE: { name: string; version: string } = JSON.parse(readFileSync(join(ROOT, 'packages/client/package.json'), 'utf8'));
const USER_ID = /^[\w.@-]{1,32}$/;

/** A running dev stack. */
export interface DevStack {
  gateway: Gateway;
  /** Base URLs (no trailing slash). */
  gatewayUrl: string;
  authUrl: string;
  chatUrl: string;
  webUrl: string;
  /** The dashboard's key (header X-Admin-Key, or the page's prompt): ADMIN_API_KEY, by default a fixed dev key. */
  adminKey: string;
  /** 24-hour tokens of the demo users. */
  tokens: Record<string, string>;
  demoUsers: string[];
  demoRoom: string;
  stop(): Promise<void>;
}

/**
 * Starts the services, the gateway and the web app. Ports come from `PORT` (gateway),
 * `DEV_AUTH_PORT` (3101), `DEV_CHAT_PORT` (3102) and `DEV_WEB_PORT` (3000); 0 picks a free one.
 */
export async function startDevStack(env: NodeJS.ProcessEnv = process.env): Promise<DevStack> {
  const auth = await startAuthService({ jwtSecret: env.JWT_SECRET ?? DEV_SECRET, port: Number(env.DEV_AUTH_PORT ?? 3101) });
  const chat = await startChatService({ port: Number(env.DEV_CHAT_PORT ?? 3102) });
  chat.addRoom(DEMO_ROOM, DEMO_USERS);

  const config = loadConfig({
    // Everyone hears of everyone's presence, so a user who logs in later shows up in the lists.
    PRESENCE_BROADCAST: 'global',
    JWT_SECRET: DEV_SECRET,
    AUTH_SERVICE_URL: auth.url,
    CHAT_SERVICE_URL: chat.url,
    LOG_LEVEL: 'warn',
    ADMIN_API_KEY: DEV_ADMIN_KEY,
    ...env,
  });
  const logger = createLogger({ level: config.logLevel, service: 'chat-gateway', instanceId: config.instanceId });
  const gateway = createGateway(config, { logger });
  const port = await gateway.listen();
  const webHost = env.HOST ?? '127.0.0.1';
  const web = await startWebApp({
    port: Number(env.DEV_WEB_PORT ?? 3000),
    host: webHost,
    gatewayPort: port,
    chatUrl: chat.url,
    users: () => [...chat.rooms.get(DEMO_ROOM)!], // the demo users and everyone who logged in (see login)
    login: (userId) => {
      chat.addRoom(DEMO_ROOM, [userId]); // anyone who logs in may use #general
      return auth.issueToken(userId, WEB_TOKEN_TTL_S);
    },
  });

  return {
    gateway,
    gatewayUrl: `http://${browsable(config.host)}:${port}`,
    authUrl: auth.url,
    chatUrl: chat.url,
    webUrl: `http://${browsable(webHost)}:${web.port}`,
    adminKey: config.adminApiKey ?? DEV_ADMIN_KEY,
    tokens: Object.fromEntries(DEMO_USERS.map((u) => [u, auth.issueToken(u, 24 * 3600)])),
    demoUsers: DEMO_USERS,
    demoRoom: DEMO_ROOM,
    async stop() {
      await web.close();
      await gateway.stop();
      await Promise.all([auth.close(), chat.close()]);
    },
  };
}

/** A host to put in a URL: `localhost` for the wildcard addresses. */
function browsable(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/** What the web app's server needs: where the gateway listens, the chat-service to proxy, a token issuer. */
interface WebAppOptions {
  port: number;
  host: string;
  gatewayPort: number;
  chatUrl: string;
  /** Issues a token for the user. */
  login: (userId: string) => string;
  /** Everyone the page may list: the demo users and whoever logged in since the stack started. */
  users: () => string[];
}

/**
 * Serves examples/web: the page, its TypeScript entry bundled by esbuild in memory, and a small
 * API so the page needs no CORS: `POST /api/login { user_id }` → `{ token }`, `GET /api/config`,
 * `GET /api/users` → `{ users }`, and `GET /api/rooms?user_id=`, `GET /api/history?…` (messages
 * with their `delivered_to` and `read_by`) proxied to the chat-service.
 */
async function startWebApp(opts: WebAppOptions): Promise<RunningServer> {
  const { build } = await import('esbuild'); // a devDependency: only the dev stack needs it
  const bundle = await build({
    entryPoints: [join(WEB_DIR, 'app.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0].text;

  const app: Express = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '4kb' }));
  app.get('/', (_req, res) => res.sendFile(join(WEB_DIR, 'index.html')));
  app.get('/styles.css', (_req, res) => res.sendFile(join(WEB_DIR, 'styles.css')));
  app.get('/app.js', (_req, res) => void res.type('text/javascript').send(script));
  // The contract's documents, as text a browser shows rather than downloads.
  for (const doc of ['asyncapi.yaml', 'openapi.yaml']) {
    app.get(`/docs/${doc}`, (_req, res) => res.type('text/plain').sendFile(join(DOCS_DIR, doc)));
  }
  app.get('/api/config', (_req, res) => void res.json({ gateway_port: opts.gatewayPort, demo_users: DEMO_USERS, demo_room: DEMO_ROOM }));
  app.post('/api/login', (req, res) => {
    const userId: unknown = req.body?.user_id;
    if (typeof userId !== 'string' || !USER_ID.test(userId)) {
      return sendError(res, 'VALIDATION_FAILED', 'user_id: 1 to 32 letters, digits, . @ _ -');
    }
    res.json({ token: opts.login(userId) });
  });
  app.get('/api/users', (_req, res) => void res.json({ users: opts.users() }));
  app.get('/api/rooms', proxy(opts.chatUrl, '/rooms', ['user_id']));
  app.get('/api/history', proxy(opts.chatUrl, '/messages', ['room_id', 'user_id', 'peer_id']));
  return startHttp(app, { port: opts.port, host: opts.host });
}

/** Forwards a GET with the named query parameters only, and answers with the service's status and body. */
function proxy(base: string, path: string, params: string[]): express.RequestHandler {
  return async (req, res) => {
    const query = new URLSearchParams();
    for (const p of params) if (typeof req.query[p] === 'string') query.set(p, req.query[p] as string);
    try {
      const answer = await fetch(`${base}${path}?${query}`, { signal: AbortSignal.timeout(3000) });
      res.status(answer.status).type('application/json').send(await answer.text());
    } catch {
      sendError(res, 'SERVICE_UNAVAILABLE', 'chat-service unreachable');
    }
  };
}

async function main(): Promise<void> {
  const stack = await startDevStack(process.env);
  printWelcome(stack);
  await runDemo(stack).catch((e: Error) => console.error(`demo failed: ${e.message}`));

  const stop = async () => {
    await stack.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** A URL the banner lists, with what it is. */
interface DevLink {
  name: string;
  url: string;
  note: string;
}

/** Everything a newcomer can open in a browser (or with curl). */
function devLinks({ gatewayUrl: gw, authUrl, chatUrl, webUrl, adminKey }: DevStack): DevLink[] {
  return [
    { name: 'demo web app', url: webUrl, note: 'open it in two windows, log in as alice and bob' },
    { name: 'dashboard', url: `${gw}/admin`, note: `the operations dashboard; admin key: ${adminKey}` },
    { name: 'dashboard API', url: `${gw}/admin/api/snapshot`, note: `with header X-Admin-Key: ${adminKey}` },
    { name: 'health', url: `${gw}/health`, note: "the gateway's state and its services'" },
    { name: 'readiness', url: `${gw}/ready`, note: '503 while starting or draining, for load balancers' },
    { name: 'metrics', url: `${gw}/metrics`, note: 'Prometheus' },
    { name: 'AsyncAPI', url: `${webUrl}/docs/asyncapi.yaml`, note: 'the Socket.IO events, payloads, acks and errors' },
    { name: 'OpenAPI', url: `${webUrl}/docs/openapi.yaml`, note: "the gateway's HTTP API" },
    { name: 'auth-service', url: `${authUrl}/health`, note: 'POST /auth/dev-token {"user_id":"dave"} for more tokens' },
    { name: 'chat-service', url: `${chatUrl}/rooms?user_id=alice`, note: `room "${DEMO_ROOM}": ${DEMO_USERS.join(', ')}` },
    { name: 'history', url: `${chatUrl}/messages?room_id=${DEMO_ROOM}&user_id=alice`, note: `the chat-service's messages of "${DEMO_ROOM}"` },
  ];
}

function printWelcome(stack: DevStack): void {
  const { gatewayUrl, tokens } = stack;
  const tarball = `${CLIENT_PACKAGE.name.replace(/^@/, '').replace('/', '-')}-${CLIENT_PACKAGE.version}.tgz`;
  console.log(`
chat-gateway dev stack

Open:
${devLinks(stack)
  .map(({ name, url, note }) => `  ${name.padEnd(14)} ${url}   (${note})`)
  .join('\n')}

Socket.IO clients connect to ${gatewayUrl} with a token in auth.token; tokens valid for 24 h:
${Object.entries(tokens)
  .map(([u, t]) => `  ${u.padEnd(6)} ${t}`)
  .join('\n')}

The typed client is the package ${CLIENT_PACKAGE.name} (docs/client.md). Pack it in this repository, install it in your app:
  npm pack --workspace ${CLIENT_PACKAGE.name}        # builds it, writes ${join(ROOT, tarball)}
  npm install ${join(ROOT, tarball)}

  import { GatewayClient } from '${CLIENT_PACKAGE.name}';
  const client = new GatewayClient('${gatewayUrl}', { token: '<token of alice>' });
  await client.connect();
  client.on('receive_message', ({ message }) => console.log(message.sender_id, ':', message.content));
  const { message } = await client.sendMessage({ receiver_id: 'bob', content: 'hi' });

Press Ctrl+C to stop.
`);
}

/** Run as a program (`npm run dev`), not when imported by a test. */
function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main().catch((e: Error) => {
    console.error(`dev stack failed: ${e.message}`);
    process.exit(1);
  });
}

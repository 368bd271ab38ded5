/**
 * `npm run dev`: the reference auth-service and chat-service, the gateway with in-memory
 * presence, demo users and a room, and a scripted demo client that shows a message round trip.
 * Everything is configured with embedded defaults; environment variables still override them.
 */
import { createGateway } from '../app.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { startAuthService } from '../reference/authService.js';
import { startChatService } from '../reference/chatService.js';
import { runDemo } from './demoClient.js';

const DEV_SECRET = 'dev-secret-change-me-0123456789';
const DEMO_USERS = ['alice', 'bob', 'carol'];
const DEMO_ROOM = 'general';

async function main(): Promise<void> {
  const env = process.env;
  const auth = await startAuthService({ jwtSecret: env.JWT_SECRET ?? DEV_SECRET, port: Number(env.DEV_AUTH_PORT ?? 3101) });
  const chat = await startChatService({ port: Number(env.DEV_CHAT_PORT ?? 3102) });
  chat.addRoom(DEMO_ROOM, DEMO_USERS);

  const config = loadConfig({
    JWT_SECRET: DEV_SECRET,
    AUTH_SERVICE_URL: auth.url,
    CHAT_SERVICE_URL: chat.url,
    LOG_LEVEL: 'warn',
    ...env,
  });
  const logger = createLogger({ level: config.logLevel, service: 'chat-gateway', instanceId: config.instanceId });
  const gateway = createGateway(config, { logger });
  const port = await gateway.listen();
  const url = `http://localhost:${port}`;

  const tokens = Object.fromEntries(DEMO_USERS.map((u) => [u, auth.issueToken(u, 24 * 3600)]));
  printWelcome(url, auth.url, chat.url, tokens);
  await runDemo(url, tokens.alice, tokens.bob, DEMO_ROOM).catch((e: Error) => console.error(`demo failed: ${e.message}`));

  const stop = async () => {
    await gateway.stop();
    await Promise.all([auth.close(), chat.close()]);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function printWelcome(url: string, authUrl: string, chatUrl: string, tokens: Record<string, string>): void {
  console.log(`
chat-gateway dev stack
  gateway        ${url}   (health: ${url}/health, metrics: ${url}/metrics)
  auth-service   ${authUrl}   (POST /auth/dev-token {"user_id":"dave"} for more tokens)
  chat-service   ${chatUrl}   (room "${DEMO_ROOM}": ${DEMO_USERS.join(', ')})

Tokens valid for 24 h:
${Object.entries(tokens)
  .map(([u, t]) => `  ${u.padEnd(6)} ${t}`)
  .join('\n')}

Connect from Node (npm i socket.io-client):
  import { io } from 'socket.io-client';
  const socket = io('${url}', { auth: { token: '<token of alice>' }, transports: ['websocket'] });
  socket.on('connected', (info) => console.log('connected as', info.user_id));
  socket.on('receive_message', ({ message }) => console.log(message.sender_id, ':', message.content));
  socket.emit('send_message', { receiver_id: 'bob', content: 'hi', client_msg_id: 'm1' }, (ack) => console.log(ack));

Press Ctrl+C to stop.
`);
}

main().catch((e: Error) => {
  console.error(`dev stack failed: ${e.message}`);
  process.exit(1);
});

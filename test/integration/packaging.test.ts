import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { startAuthService, type AuthService } from '../../src/reference/authService.js';
import { startChatService } from '../../src/reference/chatService.js';
import type { RunningServer } from '../../src/reference/serviceKit.js';
import { collect, nextEvent } from '../support/events.js';
import { gatewayEnv, spawnGateway, type GatewayProcess } from '../support/gatewayProcess.js';
import { within } from '../support/scenarios.js';
import { TEST_SECRET } from '../support/stack.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * What the Dockerfile's runtime stage runs, checked outside Docker: the gateway compiled by
 * `npm run build` (the build stage's command), with production dependencies only
 * (`npm ci --omit=dev`), started by `node dist/main.js`.
 */
describe('production package (what the Dockerfile runs)', function () {
  this.timeout(180_000);
  let dir: string;
  let gw: GatewayProcess | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-image-'));
    execFileSync('npm', ['run', 'build', '--silent', '--', '--outDir', join(dir, 'dist')], { cwd: ROOT, stdio: 'inherit' });
    for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(dir, f));
    execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  });

  afterEach(async () => {
    await gw?.kill('SIGKILL');
    gw = undefined;
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the gateway only: no file of the dev stack, the reference services or the typed client', () => {
    expect(existsSync(join(dir, 'node_modules', '@chat-gateway')), "the typed client's workspace").to.equal(false);
    const shipped = filesUnder(join(dir, 'dist'));
    expect(shipped).to.include.members(['main.js', 'app.js']);
    expect(shipped.filter((f) => /^(dev|reference|sdk)\//.test(f))).to.deep.equal([]);
    // The token-minting routes: the reference auth-service's and the demo web app's login.
    const minting = shipped.filter((f) => /dev-token|\/api\/login/.test(readFileSync(join(dir, 'dist', f), 'utf8')));
    expect(minting).to.deep.equal([]);
  });

  it('is what the Dockerfile builds and ships', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const [build, runtime] = dockerfile.split(/^FROM /m).slice(1);
    expect(build).to.match(/^COPY tsconfig\.json tsconfig\.build\.json \.\/$/m);
    expect(build).to.match(/^RUN npm run build$/m);
    expect(runtime).to.match(/^RUN npm ci --omit=dev\b/m);
    expect(runtime.match(/^COPY --from=.*$/gm)).to.deep.equal(['COPY --from=build /app/dist ./dist']);
    expect(runtime).to.match(/^CMD \["node", "dist\/main\.js"\]$/m);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).to.include.members(['src/dev', 'src/reference', 'src/sdk', 'packages']);
  });

  it('starts with exactly the variables of .env.example, read the way `docker run --env-file` reads them', async () => {
    const env = dockerEnvFile(readFileSync(join(ROOT, '.env.example'), 'utf8'));
    // The image publishes 3002; here the port must be free, so only PORT and HOST differ.
    gw = await spawnGateway({ ...env, PORT: '0', HOST: '127.0.0.1', ENV_FILE: '/nonexistent' }, { entry: ['dist/main.js'], cwd: dir });
    expect((await fetch(`${gw.url}/health`)).status).to.equal(200);
    const { code } = await gw.kill('SIGTERM');
    expect(code).to.equal(0);
  });

  it('starts with only the environment, serves /health, mints no token and exits 0 on SIGTERM', async () => {
    gw = await spawnGateway(
      { PORT: '0', HOST: '127.0.0.1', JWT_SECRET: 'x'.repeat(32), CHAT_SERVICE_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'info' },
      { entry: ['dist/main.js'], cwd: dir },
    );
    const health = await fetch(`${gw.url}/health`);
    expect(health.status).to.equal(200);
    expect(await health.json()).to.include({ status: 'ok', service: 'chat-gateway', connections: 0 });
    for (const path of ['/auth/dev-token', '/api/login']) {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user_id":"mallory"}' });
      expect(res.status, path).to.equal(404);
    }
    const { code } = await gw.kill('SIGTERM');
    expect(code).to.equal(0);
  });

  describe('with its standard output a closed pipe (a log reader gone, `node dist/main.js | head -1`)', () => {
    let auth: AuthService & RunningServer;
    let chat: RunningServer;
    let socket: ClientSocket | undefined;
    before(async () => {
      auth = await startAuthService({ jwtSecret: TEST_SECRET });
      chat = await startChatService({});
    });
    afterEach(() => socket?.disconnect());
    after(async () => {
      await Promise.all([auth.close(), chat.close()]);
    });

    it('drains on SIGTERM (clients get server_shutdown) and exits 0', async () => {
      const shutdownTimeoutMs = 2000;
      gw = await spawnGateway({ ...gatewayEnv({ auth, chat }), SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) }, { entry: ['dist/main.js'], cwd: dir });
      gw.child.stdout!.destroy(); // the reader is gone: every write to the gateway's stdout now fails (EPIPE)
      socket = connectClient(gw.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: auth.issueToken('alice') } });
      await nextEvent(socket, 'connected');
      const shutdowns = collect(socket, 'server_shutdown');

      // Bounded only so that a hang fails here instead of at the suite's timeout.
      const exit = await within(gw.kill('SIGTERM'), shutdownTimeoutMs + 10_000, 'exit after SIGTERM');
      expect(exit, gw.stderr()).to.include({ code: 0, signal: null });
      expect(shutdowns).to.have.length(1);
    });
  });
});

/** Paths of every file under `root`, relative to it, with `/` separators. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1).split('\\').join('/'));
}

/** `docker run --env-file` semantics: KEY=value lines, `#` comments and blank lines skipped, no quoting. */
function dockerEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

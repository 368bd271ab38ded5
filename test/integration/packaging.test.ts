import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnGateway, type GatewayProcess } from '../support/gatewayProcess.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * What the Dockerfile's runtime stage runs, checked outside Docker: the compiled gateway with
 * production dependencies only (`npm ci --omit=dev`), started by `node dist/main.js`.
 */
describe('production package (what the Dockerfile runs)', function () {
  this.timeout(180_000);
  let dir: string;
  let gw: GatewayProcess | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-image-'));
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', join(dir, 'dist')], { cwd: ROOT, stdio: 'inherit' });
    for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(dir, f));
    execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  });

  after(async () => {
    await gw?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with exactly the variables of .env.example, read the way `docker run --env-file` reads them', async () => {
    const env = dockerEnvFile(readFileSync(join(ROOT, '.env.example'), 'utf8'));
    // The image publishes 3002; here the port must be free, so only PORT and HOST differ.
    gw = await spawnGateway({ ...env, PORT: '0', HOST: '127.0.0.1', ENV_FILE: '/nonexistent' }, { entry: ['dist/main.js'], cwd: dir });
    expect((await fetch(`${gw.url}/health`)).status).to.equal(200);
    const { code } = await gw.kill('SIGTERM');
    expect(code).to.equal(0);
  });

  it('starts with only the environment, serves /health and exits 0 on SIGTERM', async () => {
    gw = await spawnGateway(
      { PORT: '0', HOST: '127.0.0.1', JWT_SECRET: 'x'.repeat(32), CHAT_SERVICE_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'info' },
      { entry: ['dist/main.js'], cwd: dir },
    );
    const health = await fetch(`${gw.url}/health`);
    expect(health.status).to.equal(200);
    expect(await health.json()).to.include({ status: 'ok', service: 'chat-gateway', connections: 0 });
    const { code } = await gw.kill('SIGTERM');
    expect(code).to.equal(0);
  });
});

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

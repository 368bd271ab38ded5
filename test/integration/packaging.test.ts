import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * What the Dockerfile's runtime stage runs, checked outside Docker: the compiled gateway with
 * production dependencies only (`npm ci --omit=dev`), started by `node dist/main.js`.
 */
describe('production package (what the Dockerfile runs)', function () {
  this.timeout(180_000);
  let dir: string;
  let child: ChildProcess | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-image-'));
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', join(dir, 'dist')], { cwd: ROOT, stdio: 'inherit' });
    for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(dir, f));
    execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  });

  after(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with exactly the variables of .env.example, read the way `docker run --env-file` reads them', async () => {
    const env = dockerEnvFile(readFileSync(join(ROOT, '.env.example'), 'utf8'));
    child = spawn(process.execPath, ['dist/main.js'], {
      cwd: dir,
      // The image publishes 3002; here the port must be free, so only PORT and HOST differ.
      env: { PATH: process.env.PATH, ...env, PORT: '0', HOST: '127.0.0.1', ENV_FILE: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const port = await listeningPort(child);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).to.equal(200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).to.equal(0);
  });

  it('starts with only the environment, serves /health and exits 0 on SIGTERM', async () => {
    child = spawn(process.execPath, ['dist/main.js'], {
      cwd: dir,
      env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', JWT_SECRET: 'x'.repeat(32), CHAT_SERVICE_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const port = await listeningPort(child);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).to.equal(200);
    expect(await health.json()).to.include({ status: 'ok', service: 'chat-gateway', connections: 0 });
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
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

/** Reads the port from the "gateway listening" JSON log line, leaving stdout open. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk) => {
      buffered += String(chunk);
      const line = buffered.split('\n').find((l) => l.includes('gateway listening'));
      if (line) resolve(JSON.parse(line).port);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code} before listening`)));
  });
}

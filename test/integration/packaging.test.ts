import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
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

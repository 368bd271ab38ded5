import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** The README's first command (`npm run dev`), on free ports so it can run beside anything. */
describe('npm run dev (the dev stack)', function () {
  this.timeout(30_000);
  let child: ChildProcess | undefined;
  afterEach(() => child?.kill('SIGKILL'));

  it('starts the services, the gateway and the web app, prints tokens, completes the demo round trip and stops on SIGTERM', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'src/dev/devStack.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', DEV_AUTH_PORT: '0', DEV_CHAT_PORT: '0', DEV_WEB_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (c) => (out += String(c)));
    child.stderr!.on('data', (c) => (out += String(c)));
    await new Promise<void>((done, fail) => {
      child!.stdout!.on('data', () => out.includes('demo: OK') && done());
      child!.once('exit', (code) => fail(new Error(`dev stack exited (${code}):\n${out}`)));
    });

    expect(out).to.match(/alice\s+eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    expect(out).to.include('demo: bob received "Hello Bob!"');
    expect(out).to.include('demo: alice saw the read receipt from bob');
    const gateway = /gateway\s+(http:\/\/\S+)/.exec(out)![1];
    expect((await fetch(`${gateway}/health`)).status).to.equal(200);
    const web = /web app\s+(http:\/\/\S+)/.exec(out)![1];
    expect(await (await fetch(web)).text()).to.include('<title>chat-gateway demo</title>');

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).to.equal(0);
  });
});

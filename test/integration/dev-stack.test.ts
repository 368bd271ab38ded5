import { expect } from 'chai';
import { spawnProcess, type ProcessHandle } from '../support/gatewayProcess.js';

/** The README's first command (`npm run dev`), on free ports so it can run beside anything. */
describe('npm run dev (the dev stack)', function () {
  this.timeout(30_000);
  let dev: ProcessHandle | undefined;
  afterEach(async () => {
    await dev?.kill('SIGKILL');
  });

  it('starts the services, the gateway and the web app, prints tokens, completes the demo round trip and stops on SIGTERM', async () => {
    dev = spawnProcess(
      { PORT: '0', HOST: '127.0.0.1', DEV_AUTH_PORT: '0', DEV_CHAT_PORT: '0', DEV_WEB_PORT: '0' },
      { entry: ['--import', 'tsx', 'src/dev/devStack.ts'], id: 'dev stack' },
    );
    await dev.untilLine((line) => line.includes('demo: OK'));
    const out = dev.output();

    expect(out).to.match(/alice\s+eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    expect(out).to.include('demo: bob received "Hello Bob!"');
    expect(out).to.include('demo: alice saw the read receipt from bob');
    const gateway = /gateway\s+(http:\/\/\S+)/.exec(out)![1];
    expect((await fetch(`${gateway}/health`)).status).to.equal(200);
    const web = /web app\s+(http:\/\/\S+)/.exec(out)![1];
    expect(await (await fetch(web)).text()).to.include('<title>chat-gateway demo</title>');

    const { code } = await dev.kill('SIGTERM');
    expect(code).to.equal(0);
  });
});

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { spawnProcess, type ProcessHandle } from '../support/gatewayProcess.js';

const FREE_PORTS = { PORT: '0', HOST: '127.0.0.1', DEV_AUTH_PORT: '0', DEV_CHAT_PORT: '0', DEV_WEB_PORT: '0' };
const DEV_ENTRY = ['--import', 'tsx', 'src/dev/devStack.ts'];
const CLIENT: { name: string; version: string } = JSON.parse(readFileSync(new URL('../../packages/client/package.json', import.meta.url), 'utf8'));

/** The README's first command (`npm run dev`), on free ports so it can run beside anything. */
describe('npm run dev (the dev stack)', function () {
  this.timeout(30_000);
  let dev: ProcessHandle | undefined;
  afterEach(async () => {
    await dev?.kill('SIGKILL');
  });

  it('starts the services, the gateway and the web app, prints tokens, completes the demo round trip and stops on SIGTERM', async () => {
    dev = spawnProcess(FREE_PORTS, { entry: DEV_ENTRY, id: 'dev stack' });
    await dev.untilLine((line) => line.includes('demo: OK'));
    const out = dev.output();

    expect(out).to.match(/alice\s+eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    expect(out).to.include('demo: bob received "Hello Bob!"');
    expect(out).to.include('demo: alice saw the read receipt from bob');
    const web = links(out).get('demo web app')!;
    expect(await (await fetch(web.url)).text()).to.include('<title>chat-gateway demo</title>');

    const { code } = await dev.kill('SIGTERM');
    expect(code).to.equal(0);
  });

  describe('its banner', () => {
    let banner: ProcessHandle;
    before(async () => {
      banner = spawnProcess(FREE_PORTS, { entry: DEV_ENTRY, id: 'dev stack' });
      await banner.untilLine((line) => line.includes('Press Ctrl+C to stop.'));
    });
    after(async () => {
      await banner.kill('SIGKILL');
    });

    it('lists every URL a newcomer can open, each answering, the dashboard with the printed key', async () => {
      const listed = links(banner.output());
      expect([...listed.keys()]).to.include.members([
        'demo web app', 'dashboard', 'dashboard API', 'health', 'readiness', 'metrics', 'AsyncAPI', 'OpenAPI', 'auth-service', 'chat-service',
      ]);

      const adminKey = /admin key: (\S+)$/.exec(listed.get('dashboard')!.note)![1];
      for (const [name, { url }] of listed) {
        const headers = new URL(url).pathname.startsWith('/admin/api/') ? { 'X-Admin-Key': adminKey } : undefined;
        const res = await fetch(url, { headers });
        expect(res.status, `${name} ${url}`).to.be.within(200, 299);
      }
      const dashboardApi = listed.get('dashboard API')!.url;
      expect(await (await fetch(dashboardApi, { headers: { 'X-Admin-Key': adminKey } })).json()).to.have.property('connections');
      expect((await fetch(dashboardApi)).status, 'the dashboard API without the key').to.equal(401);
      expect(await (await fetch(listed.get('dashboard')!.url)).text()).to.include('data-api="enabled"');
      expect(await (await fetch(listed.get('AsyncAPI')!.url)).text()).to.match(/^asyncapi: /m);
    });

    it('shows how to install and import the typed client by its package name', () => {
      const out = banner.output();
      expect(out).to.include(`npm pack --workspace ${CLIENT.name}`);
      expect(out).to.match(new RegExp(`npm install \\S+/chat-gateway-client-${CLIENT.version.replace(/\./g, '\\.')}\\.tgz`));
      expect(out).to.include(`import { GatewayClient } from '${CLIENT.name}';`);
      expect(out).not.to.include('src/sdk');
    });
  });
});

/** The banner's "Open:" section: `  name   url   (note)` lines up to the first blank line. */
function links(out: string): Map<string, { url: string; note: string }> {
  const section = out.slice(out.indexOf('\nOpen:\n') + '\nOpen:\n'.length).split('\n\n')[0];
  const listed = new Map<string, { url: string; note: string }>();
  for (const line of section.split('\n')) {
    const [, name, url, note] = /^ {2}(\S.*?)\s+(http:\/\/\S+)\s+\((.*)\)$/.exec(line) ?? [];
    expect(name, `a link line: ${line}`).to.be.a('string');
    listed.set(name, { url, note });
  }
  return listed;
}

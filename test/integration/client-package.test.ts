import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { nextEvent } from '../support/events.js';
import { startStack, type Stack } from '../support/stack.js';

const ROOT = resolve(import.meta.dirname, '../..');
const PACKAGE = '@chat-gateway/client';
const run = promisify(execFile);

/**
 * The typed client as a web app gets it (issue 17): `npm pack` of the workspace package, installed
 * with `npm install <tarball>` into an app of its own outside the repository, then used from there
 * (an ESM program against a real gateway, and `tsc` against the installed types). Runs npm
 * asynchronously: the gateway under test lives in this process and must keep answering.
 */
describe(`${PACKAGE} (the packed typed client, installed into an app)`, function () {
  this.timeout(180_000);
  let app: string;
  let packed: { filename: string; files: Array<{ path: string }> };
  let stack: Stack | undefined;

  before(async () => {
    app = mkdtempSync(join(tmpdir(), 'client-app-'));
    // prepack builds dist/ first, as `npm publish` would.
    const { stdout } = await run('npm', ['pack', '--workspace', PACKAGE, '--pack-destination', app, '--json', '--loglevel=error'], { cwd: ROOT });
    [packed] = JSON.parse(stdout);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
    // The dependencies come from npm's cache when the repository's `npm ci` filled it.
    await run('npm', ['install', join(app, packed.filename), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });
  });

  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  after(() => {
    rmSync(app, { recursive: true, force: true });
  });

  it('packs the compiled client, its declarations and its manifest, no TypeScript source and nothing of the gateway', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).to.include.members(['package.json', 'README.md', 'dist/sdk/index.js', 'dist/sdk/index.d.ts', 'dist/sdk/GatewayClient.js', 'dist/contract/index.d.ts']);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).to.deep.equal([]);
    expect(files.filter((f) => /^dist\/(dev|reference|http|socket|config)\//.test(f))).to.deep.equal([]);

    const installed = JSON.parse(readFileSync(join(app, 'node_modules', PACKAGE, 'package.json'), 'utf8'));
    expect(installed.name).to.equal(PACKAGE);
    const app_ = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
    expect(app_.dependencies).to.have.property(PACKAGE);
  });

  it('is imported by an ESM program, which connects to a real gateway and sends a message that its receiver gets', async () => {
    stack = await startStack();
    const bob = await stack.connect('bob');
    const received = nextEvent(bob, 'receive_message', 10_000);
    writeFileSync(
      join(app, 'send.mjs'),
      `import { GatewayClient } from '${PACKAGE}';
const [url, token] = process.argv.slice(2);
const client = new GatewayClient(url, { token });
const { user_id } = await client.connect();
const { message } = await client.sendMessage({ receiver_id: 'bob', content: 'hello from the packed client' });
client.close();
console.log(JSON.stringify({ user_id, message }));
`,
    );

    const { stdout } = await run(process.execPath, ['send.mjs', stack.url, stack.token('alice')], { cwd: app });
    const { user_id, message } = JSON.parse(stdout);
    expect(user_id).to.equal('alice');
    expect(message).to.include({ sender_id: 'alice', receiver_id: 'bob', content: 'hello from the packed client' });
    expect((await received).message).to.deep.equal(message);
    expect(stack.chat.messages.get(message.message_id)).to.include({ content: 'hello from the packed client' });
  });

  it('type-checks an app against the installed declarations, and rejects a wrong payload', async () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [], skipLibCheck: false },
        files: ['app.ts'],
      }),
    );
    writeFileSync(
      join(app, 'app.ts'),
      `import { GatewayClient, isGatewayClientError, type ChatMessage } from '${PACKAGE}';

const client = new GatewayClient('http://localhost:3002', { getToken: async () => 'a JWT' });
export async function chat(): Promise<ChatMessage> {
  await client.connect();
  client.on('receive_message', ({ message }) => console.log(message.sender_id.toUpperCase(), message.content));
  // @ts-expect-error: a message goes to a receiver_id or a room_id, and carries content
  await client.sendMessage({ receiver: 'bob', content: 'hi' }).catch(() => undefined);
  // @ts-expect-error: no such server event
  client.on('recieve_message', () => undefined);
  try {
    const { message } = await client.sendMessage({ receiver_id: 'bob', content: 'hi' });
    return message;
  } catch (e) {
    if (isGatewayClientError(e)) console.log(e.code, e.retryable);
    throw e;
  }
}
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', app]).catch((e: { stdout: string }) => e);
    expect(result.stdout).to.equal('');
  });
});

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { startDevStack, type DevStack } from '../../src/dev/devStack.js';
import { launchChromium, requireChromium, screenshotPath } from '../support/browser.js';
import { waitFor } from '../support/events.js';

const SCREENSHOT = screenshotPath('demo.png');
const RECONNECTING_SCREENSHOT = screenshotPath('demo-reconnecting.png');
const VIEWPORT = { width: 1280, height: 800 };

/** What the test reads of the page's globals (the test code has no DOM types). */
type BrowserGlobals = { getComputedStyle(e: unknown): { color: string } };

/** One person's browser window on the demo app, with the script and console errors it produced. */
interface Window {
  page: Page;
  problems: string[];
}

/** Opens the web app in a fresh browser context and logs in by clicking the demo user's button. */
async function logIn(browser: Browser, stack: DevStack, user: string): Promise<Window> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  await page.goto(stack.webUrl);
  await page.click(`#demo-users [data-user="${user}"]`);
  await page.locator('#chat').waitFor({ state: 'visible' });
  return { page, problems };
}

/** The sidebar entry of a direct conversation. */
const person = (page: Page, user: string) => page.locator(`#people [data-conversation="direct:${user}"]`);
/** The tick of the sender's message with this text. */
const tickOf = (page: Page, text: string) => page.locator('.msg.own', { hasText: text }).locator('.tick');

async function typeAndSend(page: Page, text: string): Promise<void> {
  await page.locator('#text').fill(text);
  await page.locator('#text').press('Enter');
}

/** Waits until the locator's attribute has the value (the page updates on pushed events, not polls). */
async function waitForAttribute(page: Page, selector: string, name: string, value: string, what: string): Promise<void> {
  await waitFor(async () => (await page.locator(selector).first().getAttribute(name).catch(() => null)) === value, 5000, what);
}

describe('demo web app in Chromium: alice and bob chat through the gateway', function () {
  this.timeout(60_000);
  let stack: DevStack;
  let browser: Browser;
  let alice: Window;
  let bob: Window;

  before(async function () {
    requireChromium(this);
    stack = await startDevStack({ PORT: '0', HOST: '127.0.0.1', DEV_AUTH_PORT: '0', DEV_CHAT_PORT: '0', DEV_WEB_PORT: '0', LOG_LEVEL: 'error' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('logs both in, and each sees the other online', async () => {
    alice = await logIn(browser, stack, 'alice');
    bob = await logIn(browser, stack, 'bob');
    expect(await alice.page.locator('#me').innerText()).to.equal('alice');
    await waitForAttribute(bob.page, '#people [data-conversation="direct:alice"]', 'data-online', 'true', 'alice online on bob’s page');
    await waitForAttribute(alice.page, '#people [data-conversation="direct:bob"]', 'data-online', 'true', 'bob online on alice’s page');
    expect(await alice.page.locator('#conn').getAttribute('data-state')).to.equal('connected');
  });

  it('shows alice’s message on bob’s page, and alice’s tick goes from stored to delivered', async () => {
    await person(alice.page, 'bob').click();
    expect(await alice.page.locator('#conv-title').innerText()).to.equal('bob');
    await typeAndSend(alice.page, 'Hi Bob! Is the new gateway live?');

    // Bob is looking at #general: the message shows in his sidebar, unread.
    await person(bob.page, 'alice').locator('.badge', { hasText: '1' }).waitFor();
    expect(await person(bob.page, 'alice').locator('.preview').innerText()).to.equal('Hi Bob! Is the new gateway live?');
    await waitForAttribute(alice.page, '.msg.own .tick', 'data-status', 'delivered', 'the delivered tick');
    expect(await tickOf(alice.page, 'Is the new gateway live?').innerText()).to.equal('✓✓');
  });

  it('turns alice’s tick blue (read) when bob opens the conversation', async () => {
    await person(bob.page, 'alice').click();
    await bob.page.locator('.msg', { hasText: 'Is the new gateway live?' }).waitFor();
    expect(await person(bob.page, 'alice').locator('.badge').count()).to.equal(0);
    await waitForAttribute(alice.page, '.msg.own .tick', 'data-status', 'read', 'the read tick');
    const color = await tickOf(alice.page, 'Is the new gateway live?').evaluate((e) => (globalThis as unknown as BrowserGlobals).getComputedStyle(e).color);
    expect(color).to.equal('rgb(52, 183, 241)');
  });

  it('shows alice that bob is typing, then his reply', async () => {
    await bob.page.locator('#text').pressSequentially('Yes, since ', { delay: 20 });
    await alice.page.locator('#typing', { hasText: 'bob is typing…' }).waitFor();
    expect(await person(alice.page, 'bob').locator('.preview').innerText()).to.equal('typing…');

    await typeAndSend(bob.page, 'Yes, since this morning. Messages, receipts and presence all go through it.');
    await alice.page.locator('.msg:not(.own)', { hasText: 'since this morning' }).waitFor();
    await waitFor(async () => (await alice.page.locator('#typing').innerText()) === '', 5000, 'the typing indicator to go away');
  });

  it('removes a deleted message from both pages', async () => {
    await typeAndSend(alice.page, 'Oops, wrong chat');
    await bob.page.locator('.msg', { hasText: 'Oops, wrong chat' }).waitFor();
    const oops = alice.page.locator('.msg.own', { hasText: 'Oops, wrong chat' });
    await waitForAttribute(alice.page, '.msg.own:last-child .tick', 'data-status', 'read', 'the oops message stored and read');
    await oops.hover();
    await oops.locator('.delete').click();
    await oops.waitFor({ state: 'detached' });
    await bob.page.locator('.msg', { hasText: 'Oops, wrong chat' }).waitFor({ state: 'detached' });
  });

  it('looks like a chat (docs/demo.png: alice’s page after the exchange)', async () => {
    await typeAndSend(alice.page, 'Great! Even reconnects resend with the same client_msg_id, so nothing is stored twice.');
    await waitForAttribute(alice.page, '.msg.own:last-child .tick', 'data-status', 'read', 'the last message read');
    await typeAndSend(bob.page, 'Nice. The typed client made the web app a short afternoon.');
    await alice.page.locator('.msg:not(.own)', { hasText: 'short afternoon' }).waitFor();
    await typeAndSend(alice.page, 'Lunch at 12:30 to celebrate?');
    await waitForAttribute(alice.page, '.msg.own:last-child .tick', 'data-status', 'read', 'the lunch message read');
    await bob.page.locator('#text').pressSequentially('Sure', { delay: 20 });
    await alice.page.locator('#typing', { hasText: 'bob is typing…' }).waitFor();
    await alice.page.locator('#text').fill('');
    await alice.page.mouse.move(0, VIEWPORT.height - 1);
    await alice.page.screenshot({ path: SCREENSHOT });
    expect(await alice.page.locator('.msg').count()).to.equal(5);
  });

  it('shows bob offline on alice’s page when bob closes his page', async () => {
    await bob.page.context().close();
    await waitForAttribute(alice.page, '#people [data-conversation="direct:bob"]', 'data-online', 'false', 'bob offline on alice’s page');
    expect(await alice.page.locator('#conv-sub').innerText()).to.match(/^offline · last seen /);
  });

  it('ran without script or console errors', () => {
    expect([...alice.problems, ...bob.problems]).to.deep.equal([]);
  });

  it('shows a reconnect banner while the network is gone, and hides it once connected again', async () => {
    await alice.page.context().setOffline(true);
    for (const socket of stack.gateway.io.sockets.sockets.values()) if (socket.data.userId === 'alice') socket.conn.close();
    await alice.page.locator('#banner', { hasText: 'Connection lost. Reconnecting…' }).waitFor();
    expect(await alice.page.locator('#conn').getAttribute('data-state')).to.equal('reconnecting');
    await alice.page.screenshot({ path: RECONNECTING_SCREENSHOT });

    await alice.page.context().setOffline(false);
    await alice.page.locator('#banner').waitFor({ state: 'hidden', timeout: 10_000 });
    expect(await alice.page.locator('#conn').getAttribute('data-state')).to.equal('connected');
  });

  it('has page code that type-checks against the typed client and the DOM', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'examples/web/tsconfig.json'], { cwd: root });
  });

  it('tells the user the server is restarting when it drains (server_shutdown)', async () => {
    await stack.gateway.stop();
    await alice.page.locator('#banner', { hasText: 'The server is restarting. Reconnecting…' }).waitFor();
  });
});

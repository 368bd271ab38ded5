import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { runDemo } from '../../src/dev/demoClient.js';
import { startDevStack, type DevStack } from '../../src/dev/devStack.js';
import { launchChromium, requireChromium, screenshotPath } from '../support/browser.js';
import { waitFor } from '../support/events.js';

const SCREENSHOT = screenshotPath('demo.png');
const RECONNECTING_SCREENSHOT = screenshotPath('demo-reconnecting.png');
const PHONE_SCREENSHOT = screenshotPath('demo-phone.png');
const VIEWPORT = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const STACK_ENV = { PORT: '0', HOST: '127.0.0.1', DEV_AUTH_PORT: '0', DEV_CHAT_PORT: '0', DEV_WEB_PORT: '0', LOG_LEVEL: 'error' };

/** What the test reads of the page's globals (the test code has no DOM types). */
type BrowserGlobals = {
  getComputedStyle(e: unknown): { color: string };
  document: { documentElement: { scrollWidth: number; clientWidth: number } };
};

/** One person's browser window on the demo app, with the script and console errors it produced. */
interface Window {
  page: Page;
  problems: string[];
}

/** Opens the web app's login page in a fresh browser context. */
async function openApp(browser: Browser, stack: DevStack, viewport = VIEWPORT): Promise<Window> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  await page.goto(stack.webUrl);
  return { page, problems };
}

/** Opens the web app and logs in by clicking the demo user's button (any other name: typed in the form). */
async function logIn(browser: Browser, stack: DevStack, user: string, viewport = VIEWPORT): Promise<Window> {
  const window = await openApp(browser, stack, viewport);
  const { page } = window;
  if (stack.demoUsers.includes(user)) await page.click(`#demo-users [data-user="${user}"]`);
  else await submitName(page, user);
  await page.locator('#chat').waitFor({ state: 'visible' });
  return window;
}

async function submitName(page: Page, name: string): Promise<void> {
  await page.locator('#login-name').fill(name);
  await page.locator('#login-form button[type="submit"]').click();
}

/** The sidebar entry of the demo room. */
const general = (page: Page) => page.locator('#rooms [data-conversation="room:general"]');

/** Whether the page is wider than its window (something sticks out sideways). */
const overflowsSideways = (page: Page) =>
  page.evaluate(() => {
    const root = (globalThis as unknown as BrowserGlobals).document.documentElement;
    return root.scrollWidth > root.clientWidth;
  });

/** Whether the element lies inside the window, horizontally and vertically. */
async function onScreen(page: Page, selector: string, viewport: { width: number; height: number }): Promise<boolean> {
  const box = await page.locator(selector).boundingBox();
  return box !== null && box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height;
}

/** The port of a base URL. */
const portOf = (url: string) => new URL(url).port;

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
  let carol: Window;
  let dave: Window;

  before(async function () {
    requireChromium(this);
    stack = await startDevStack(STACK_ENV);
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

  it('fits a 390 px phone: the list first, then the conversation with a back button', async () => {
    carol = await logIn(browser, stack, 'carol', PHONE);
    const { page } = carol;
    await page.locator('.sidebar').waitFor({ state: 'visible' });
    expect(await page.locator('.conversation').isVisible()).to.equal(false);
    expect(await overflowsSideways(page)).to.equal(false);

    await general(page).click();
    await page.locator('.conversation').waitFor({ state: 'visible' });
    expect(await page.locator('.sidebar').isVisible()).to.equal(false);
    expect(await page.locator('#conv-title').innerText()).to.equal('#general');
    expect(await onScreen(page, '#send', PHONE)).to.equal(true);
    expect(await onScreen(page, '#back', PHONE)).to.equal(true);

    await typeAndSend(page, 'On my phone now: long lines wrap by words, and the send button stays in view.');
    const bubble = page.locator('.msg.own', { hasText: 'On my phone now' });
    await bubble.locator('.tick[data-status="delivered"]').waitFor();
    const box = (await bubble.boundingBox())!;
    // Wrapping letter by letter made bubbles a few characters wide; now a long one takes most of the width.
    expect(box.width).to.be.greaterThan(PHONE.width / 2);
    expect(box.x + box.width).to.be.at.most(PHONE.width);
    expect(await overflowsSideways(page)).to.equal(false);

    await page.locator('#back').click();
    await page.locator('.sidebar').waitFor({ state: 'visible' });
    expect(await page.locator('.conversation').isVisible()).to.equal(false);
  });

  it('counts a room message’s readers (“read by n”) and shows it read only once every member read it', async () => {
    await general(alice.page).click();
    await alice.page.locator('.msg', { hasText: 'On my phone now' }).waitFor();
    await typeAndSend(alice.page, 'Standup in five minutes, here in #general.');
    const standup = alice.page.locator('.msg.own', { hasText: 'Standup in five' });
    await standup.locator('.tick[data-status="delivered"]').waitFor();
    expect(await standup.locator('.read-by').count()).to.equal(0);

    await general(carol.page).click();
    await carol.page.locator('.msg', { hasText: 'Standup in five' }).waitFor();
    await standup.locator('.read-by', { hasText: 'read by 1' }).waitFor();
    expect(await standup.locator('.tick').getAttribute('data-status')).to.equal('delivered');

    await general(bob.page).click();
    await standup.locator('.read-by', { hasText: 'read by 2' }).waitFor();
    await standup.locator('.tick[data-status="read"]').waitFor();
    expect(await standup.locator('.read-by').getAttribute('title')).to.equal('read by carol, bob');

    await typeAndSend(carol.page, 'Coming!');
    await alice.page.locator('.msg', { hasText: 'Coming!' }).waitFor();
    await carol.page.locator('.msg.own', { hasText: 'Coming!' }).locator('.tick[data-status="read"]').waitFor();
    await carol.page.screenshot({ path: PHONE_SCREENSHOT });
  });

  it('keeps the ticks across a reload: the history carries who got and who read each message', async () => {
    await alice.page.reload();
    await alice.page.locator('#conv-title', { hasText: '#general' }).waitFor();
    const standup = alice.page.locator('.msg.own', { hasText: 'Standup in five' });
    await standup.locator('.tick[data-status="read"]').waitFor();
    expect(await standup.locator('.read-by').innerText()).to.equal('read by 2');

    await person(alice.page, 'bob').click();
    await alice.page.locator('.msg.own', { hasText: 'Lunch at 12:30' }).waitFor();
    const ticks = await alice.page.locator('.msg.own .tick').evaluateAll((nodes) => nodes.map((n) => (n as unknown as { dataset: { status: string } }).dataset.status));
    expect(ticks).to.deep.equal(['read', 'read', 'read']);
  });

  it('tells why a name is refused (the login API’s message), and asks for a name when it is blank', async () => {
    const { page } = await openApp(browser, stack);
    await submitName(page, 'no spaces allowed');
    await waitForAttribute(page, '#login-error', 'data-code', 'VALIDATION_FAILED', 'the refusal of the name');
    expect(await page.locator('#login-error').innerText()).to.equal('Cannot log in: user_id: 1 to 32 letters, digits, . @ _ -');

    await submitName(page, '   ');
    await waitForAttribute(page, '#login-error', 'data-code', 'BLANK', 'the blank name message');
    expect(await page.locator('#login-error').innerText()).to.match(/^Type a name/);
    expect(await page.locator('#chat').isVisible()).to.equal(false);
    await page.context().close();
  });

  it('shows a user who logs in later in everyone’s list and in the room’s members, without a reload', async () => {
    expect(await person(alice.page, 'dave').count()).to.equal(0);
    dave = await logIn(browser, stack, 'dave');
    await waitForAttribute(alice.page, '#people [data-conversation="direct:dave"]', 'data-online', 'true', 'dave online on alice’s page');
    await waitForAttribute(carol.page, '#people [data-conversation="direct:dave"]', 'data-online', 'true', 'dave online on carol’s page');
    await waitFor(async () => ((await general(alice.page).getAttribute('data-members')) ?? '').split(',').includes('dave'), 5000, 'dave among #general’s members');
    // Bob looks at #general: its header lists the members.
    await bob.page.locator('#conv-sub', { hasText: 'dave' }).waitFor();
    expect(await dave.page.locator('#people [data-conversation="direct:alice"]').getAttribute('data-online')).to.equal('true');
  });

  it('shows bob offline on alice’s page when bob closes his page', async () => {
    await bob.page.context().close();
    await waitForAttribute(alice.page, '#people [data-conversation="direct:bob"]', 'data-online', 'false', 'bob offline on alice’s page');
    expect(await alice.page.locator('#conv-sub').innerText()).to.match(/^offline · last seen /);
  });

  it('ran without script or console errors', () => {
    expect([...alice.problems, ...bob.problems, ...carol.problems, ...dave.problems]).to.deep.equal([]);
  });

  it('shows a reconnect banner and nobody online while the network is gone, and presence again once connected', async () => {
    await waitForAttribute(alice.page, '#people [data-conversation="direct:carol"]', 'data-online', 'true', 'carol online on alice’s page');
    await alice.page.context().setOffline(true);
    for (const socket of stack.gateway.io.sockets.sockets.values()) if (socket.data.userId === 'alice') socket.conn.close();
    await alice.page.locator('#banner', { hasText: 'Connection lost. Reconnecting…' }).waitFor();
    expect(await alice.page.locator('#conn').getAttribute('data-state')).to.equal('reconnecting');
    expect(await alice.page.locator('#people [data-online="true"]').count()).to.equal(0);
    expect(await alice.page.locator('.dot.online').count()).to.equal(0);
    await alice.page.screenshot({ path: RECONNECTING_SCREENSHOT });

    await alice.page.context().setOffline(false);
    await alice.page.locator('#banner').waitFor({ state: 'hidden', timeout: 10_000 });
    expect(await alice.page.locator('#conn').getAttribute('data-state')).to.equal('connected');
    await waitForAttribute(alice.page, '#people [data-conversation="direct:carol"]', 'data-online', 'true', 'carol online again on alice’s page');
  });

  it('has page code that type-checks against the typed client and the DOM', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'examples/web/tsconfig.json'], { cwd: root });
  });

  it('tells the user the server is restarting when it drains (server_shutdown)', async () => {
    await stack.gateway.stop();
    await alice.page.locator('#banner', { hasText: 'The server is restarting. Reconnecting…' }).waitFor();
  });

  it('after a restart of the stack, shows the scripted demo’s messages once, however often it runs', async () => {
    const samePorts = { PORT: portOf(stack.gatewayUrl), DEV_WEB_PORT: portOf(stack.webUrl), DEV_AUTH_PORT: portOf(stack.authUrl), DEV_CHAT_PORT: portOf(stack.chatUrl) };
    await stack.stop();
    stack = await startDevStack({ ...STACK_ENV, ...samePorts });
    await alice.page.locator('#banner').waitFor({ state: 'hidden', timeout: 20_000 });
    // The new chat-service has no history: alice's open conversation with bob is empty again.
    await alice.page.locator('#messages .empty').waitFor();

    expect(await runDemo(stack)).to.equal(true);
    await alice.page.locator('.msg.own', { hasText: 'Hello Bob!' }).waitFor();
    expect(await runDemo(stack)).to.equal(false);
    await typeAndSend(alice.page, 'Back after the restart.');
    await alice.page.locator('.msg.own', { hasText: 'Back after the restart.' }).locator('.tick:not([data-status="sending"])').waitFor();
    expect(await alice.page.locator('.msg', { hasText: 'Hello Bob!' }).count()).to.equal(1);

    await alice.page.reload();
    await person(alice.page, 'bob').click();
    await alice.page.locator('.msg', { hasText: 'Back after the restart.' }).waitFor();
    expect(await alice.page.locator('.msg').allInnerTexts()).to.have.length(2);
    expect(await alice.page.locator('.msg', { hasText: 'Hello Bob!' }).count()).to.equal(1);
  });
});

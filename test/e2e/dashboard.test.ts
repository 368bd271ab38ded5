import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { Socket as ClientSocket } from 'socket.io-client';
import { launchChromium, requireChromium, screenshotPath } from '../support/browser.js';
import { request, sleep, waitFor } from '../support/events.js';
import { startStack, type Stack } from '../support/stack.js';

const ADMIN_KEY = 'admin-key-for-the-browser-test';
const SCREENSHOT = screenshotPath('dashboard.png');
/** The page polls every 2 s. */
const POLL_MS = 2000;
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const ROOM = 'general';
const POST_MESSAGES = { method: 'POST', path: /^\/messages$/ };

/** Opens a page at the dashboard and records script errors and console errors (CSP violations among them). */
async function openDashboard(browser: Browser, stack: Stack): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  await page.goto(`${stack.url}/admin`);
  return { page, problems };
}

/** The text of a tile's big number. */
const tileValue = (page: Page, tile: string) => page.locator(`#tile-${tile} .value`).innerText();

/** Waits until a tile shows `expected`. */
async function waitForTile(page: Page, tile: string, expected: string): Promise<void> {
  await waitFor(async () => (await tileValue(page, tile)) === expected, 3 * POLL_MS, `the ${tile} tile to show ${expected}`);
}

/**
 * Traffic for one poll interval of the screenshot: sockets coming and going, room and direct
 * messages at a varying pace and latency, typing bursts that hit the typing limit, read receipts,
 * and a few invalid events.
 */
async function trafficRound(stack: Stack, sockets: Map<string, ClientSocket[]>, round: number): Promise<void> {
  const wanted = [6, 8, 10, 11, 13, 12, 14, 15, 13, 14, 13][round];
  const open = () => [...sockets.values()].flat();
  while (open().length < wanted) {
    const user = USERS[open().length % USERS.length];
    sockets.set(user, [...(sockets.get(user) ?? []), await stack.connect(user)]);
  }
  while (open().length > wanted) {
    const user = [...sockets.keys()].find((u) => sockets.get(u)!.length > 1)!;
    sockets.get(user)!.pop()!.disconnect();
  }
  stack.chat.faults.add({ delayMs: [3, 9, 24, 12, 40, 6, 18, 30, 10, 15][round % 10], times: 4, match: POST_MESSAGES });

  const first = (user: string) => sockets.get(user)![0];
  const messages = 4 + Math.round(4 * Math.sin(round / 1.6) + 4);
  const acks = [];
  for (let i = 0; i < messages; i++) {
    const from = USERS[(round + i) % USERS.length];
    const to = USERS[(round + i + 1) % USERS.length];
    const payload = i % 3 === 0 ? { receiver_id: to, content: `hi ${to}` } : { room_id: ROOM, content: `message ${round}.${i}` };
    acks.push(request(first(from), 'send_message', payload));
  }
  const sent = await Promise.all(acks);
  // Read by the receiver of a direct message, or by a room member other than the sender.
  const reader = (m: { sender_id: string; receiver_id?: string }) => m.receiver_id ?? USERS.find((u) => u !== m.sender_id)!;
  const read = sent.filter((a) => a.ok).slice(0, 3);
  await Promise.all(read.map((a) => request(first(reader(a.message)), 'message_read', { message_id: a.message.message_id })));
  const typist = first(USERS[round % USERS.length]);
  const typing = round % 4 === 3 ? 12 : 3;
  await Promise.all(Array.from({ length: typing }, () => request(typist, 'typing', { room_id: ROOM })));
  if (round % 2 === 1) await request(first('bob'), 'send_message', { receiver_id: 'alice', content: '' });
  await request(first('carol'), 'get_online_users', {});
}

describe('operations dashboard in a browser (GET /admin)', () => {
  let browser: Browser;
  before(async function () {
    requireChromium(this);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  describe('with an admin key', () => {
    let stack: Stack;
    let page: Page;
    let problems: string[];
    const sockets = new Map<string, ClientSocket[]>();
    before(async () => {
      stack = await startStack({ ADMIN_API_KEY: ADMIN_KEY, RATE_LIMIT_TYPING: '8/2', TYPING_THROTTLE_MS: '0' });
      stack.chat.addRoom(ROOM, USERS);
      ({ page, problems } = await openDashboard(browser, stack));
    });
    after(async () => {
      await page?.close();
      await stack?.stop();
    });

    it('asks for the admin key and says when it is refused', async () => {
      await page.locator('#login').waitFor({ state: 'visible' });
      expect(await page.locator('#dashboard').isVisible()).to.equal(false);
      await page.fill('#key', 'not-the-key');
      await page.click('#login button[type=submit]');
      await page.locator('#login-error').getByText('That key was refused.').waitFor();
      expect(await page.locator('#dashboard').isVisible()).to.equal(false);
    });

    it('shows the connection count once the right key is entered, and keeps the key for the tab', async () => {
      await page.fill('#key', ADMIN_KEY);
      await page.click('#login button[type=submit]');
      await page.locator('#dashboard').waitFor({ state: 'visible' });
      await waitForTile(page, 'connections', '0');
      expect(await page.locator('#instance').innerText()).to.equal(stack.gateway.config.instanceId);
      await page.reload();
      await page.locator('#dashboard').waitFor({ state: 'visible' });
      expect(await page.locator('#login').isVisible()).to.equal(false);
    });

    it('shows the tile rise as three sockets connect', async () => {
      await waitForTile(page, 'connections', '0');
      for (const user of ['alice', 'bob', 'bob']) sockets.set(user, [...(sockets.get(user) ?? []), await stack.connect(user)]);
      await waitForTile(page, 'connections', '3');
      await waitForTile(page, 'online', '2');
    });

    it('shows a green "closed" badge per service and the events in the table', async () => {
      expect((await request(sockets.get('alice')![0], 'join_room', { room_id: ROOM })).ok).to.equal(true);
      expect((await request(sockets.get('alice')![0], 'send_message', { room_id: ROOM, content: 'hello' })).ok).to.equal(true);
      const row = page.locator('#events tbody tr', { hasText: 'send_message' });
      await row.waitFor({ timeout: 3 * POLL_MS });
      expect(await row.locator('td').nth(2).innerText()).to.equal('1');
      await waitForTile(page, 'rooms', '1');
      for (const service of ['chat', 'auth']) {
        const badge = page.locator(`[data-service=${service}] .badge`);
        expect(await badge.innerText()).to.equal('closed');
        const colour = `getComputedStyle(document.querySelector('[data-service=${service}] .badge')).color`;
        expect(await page.evaluate(colour), `${service} badge colour`).to.equal('rgb(63, 207, 142)');
      }
    });

    it('draws the charts from live traffic (docs/dashboard.png)', async function () {
      this.timeout(60_000);
      for (const user of USERS.filter((u) => !sockets.has(u))) sockets.set(user, [await stack.connect(user)]);
      for (const [, [socket]] of sockets) await request(socket, 'join_room', { room_id: ROOM });
      const round = async (n: number) => {
        const started = Date.now();
        await trafficRound(stack, sockets, n);
        await sleep(Math.max(0, POLL_MS - (Date.now() - started)));
      };
      for (let n = 0; n < 10; n++) await round(n);
      // The picture is taken at the first refresh during one more round, so the rates are live.
      const refreshes = () => page.evaluate("Chart.getChart('chart-events').data.labels.length") as Promise<number>;
      const before = await refreshes();
      const last = round(10);
      await waitFor(async () => (await refreshes()) > before, 2 * POLL_MS, 'a refresh during the last round');
      const points = (chart: string) =>
        page.evaluate(`Chart.getChart('${chart}').data.datasets.map((d) => d.data.filter((v) => v > 0).length)`) as Promise<number[]>;
      expect(Math.min(...(await points('chart-connections'))), 'connection points').to.be.at.least(10);
      expect((await points('chart-events'))[0], 'events/s points').to.be.at.least(10);
      expect(Math.max(...(await points('chart-latency'))), 'latency points').to.be.at.least(5);
      expect(Number(await tileValue(page, 'connections')), 'connections tile').to.be.at.least(6);
      expect(await page.locator('#limits .nonzero').count(), 'non-zero limit counters').to.be.greaterThan(0);
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
      await last;
    });

    it('ran without script errors or Content-Security-Policy violations', () => {
      // The refused key of the first test is the one expected failure.
      expect(problems.filter((p) => !p.includes('status of 403'))).to.deep.equal([]);
    });
  });

  describe('with no key configured', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack({ PUSH_API_KEYS: '' });
    });
    after(() => stack?.stop());

    it('says the dashboard API is disabled instead of asking for a key', async () => {
      const { page, problems } = await openDashboard(browser, stack);
      await page.locator('#disabled').waitFor({ state: 'visible' });
      expect(await page.locator('#disabled').innerText()).to.include('ADMIN_API_KEY');
      expect(await page.locator('#login').isVisible()).to.equal(false);
      expect(problems).to.deep.equal([]);
      await page.close();
    });
  });
});

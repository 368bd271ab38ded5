import { expect } from 'chai';
import type { PresenceStore } from '../../src/presence/PresenceStore.js';
import { expectIsoTime } from '../support/scenarios.js';

/** A fresh, empty store for one test, and how to release it afterwards. */
export interface StoreUnderTest {
  store: PresenceStore;
  cleanup(): Promise<void>;
}

/** `count` user ids with a common prefix: u-0, u-1, ... */
const users = (count: number, prefix = 'u') => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

/**
 * The behaviour every PresenceStore driver owes the gateway (src/presence/PresenceStore.ts),
 * run once per driver in the manner of socket.io-redis-adapter's `testSuite(createAdapter)`.
 * `makeStore` is called before each test and must return an empty store.
 */
export function presenceStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`PresenceStore contract: ${name}`, () => {
    let store: PresenceStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    describe('addSocket', () => {
      it("reports a user's first socket as the online transition, with a socket count of 1", async () => {
        expect(await store.addSocket('alice', 's1')).to.deep.equal({ admitted: true, firstForUser: true, socketCount: 1 });
        expect(await store.socketCount('alice')).to.equal(1);
      });

      it('does not report a second socket of the same user as a transition, and counts both', async () => {
        await store.addSocket('alice', 's1');
        expect(await store.addSocket('alice', 's2')).to.deep.equal({ admitted: true, firstForUser: false, socketCount: 2 });
        expect(await store.socketCount('alice')).to.equal(2);
        expect(await store.countOnline()).to.equal(1);
      });

      it('treats re-adding a registered socket as a no-op', async () => {
        await store.addSocket('alice', 's1');
        expect(await store.addSocket('alice', 's1')).to.deep.equal({ admitted: true, firstForUser: false, socketCount: 1 });
        expect(await store.socketCount('alice')).to.equal(1);
        // One removal is then enough to take the user offline.
        expect((await store.removeSocket('alice', 's1')).lastForUser).to.equal(true);
        expect(await store.socketCount('alice')).to.equal(0);
      });

      it("keeps each user's transition to itself", async () => {
        expect((await store.addSocket('alice', 's1')).firstForUser).to.equal(true);
        expect((await store.addSocket('bob', 's2')).firstForUser).to.equal(true);
        expect(await store.socketCount('alice')).to.equal(1);
        expect(await store.socketCount('bob')).to.equal(1);
      });
    });

    describe('addSocket with maxSockets (MAX_SOCKETS_PER_USER)', () => {
      it("refuses a user's socket beyond the cap without changing anything, and admits one again after a removal", async () => {
        await store.addSocket('alice', 's1', 2);
        await store.addSocket('alice', 's2', 2);
        expect(await store.addSocket('alice', 's3', 2)).to.deep.equal({ admitted: false, firstForUser: false, socketCount: 2 });
        expect(await store.socketCount('alice')).to.equal(2);
        expect((await store.removeSocket('alice', 's3')).lastForUser, 'the refused socket is unknown').to.equal(false);
        expect(await store.socketCount('alice')).to.equal(2);

        await store.removeSocket('alice', 's1');
        expect(await store.addSocket('alice', 's3', 2)).to.deep.equal({ admitted: true, firstForUser: false, socketCount: 2 });
      });

      it('counts the cap per user, and admits a first socket with a cap of 1', async () => {
        expect((await store.addSocket('alice', 's1', 1)).admitted).to.equal(true);
        expect((await store.addSocket('alice', 's2', 1)).admitted).to.equal(false);
        expect(await store.addSocket('bob', 's3', 1)).to.deep.equal({ admitted: true, firstForUser: true, socketCount: 1 });
      });

      it('admits re-adding a registered socket at the cap as the no-op it is', async () => {
        await store.addSocket('alice', 's1', 1);
        expect(await store.addSocket('alice', 's1', 1)).to.deep.equal({ admitted: true, firstForUser: false, socketCount: 1 });
      });

      it('admits exactly the cap out of 50 parallel adds of one user', async () => {
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.addSocket('alice', `s${i}`, 3)));
        expect(results.filter((r) => r.admitted)).to.have.length(3);
        expect(results.filter((r) => r.firstForUser)).to.have.length(1);
        expect(await store.socketCount('alice')).to.equal(3);
      });
    });

    describe('removeSocket', () => {
      it('does not report removing one of several sockets as the offline transition', async () => {
        await store.addSocket('alice', 's1');
        await store.addSocket('alice', 's2');
        expect((await store.removeSocket('alice', 's1')).lastForUser).to.equal(false);
        expect(await store.socketCount('alice')).to.equal(1);
        expect(await store.onlineAmong(['alice'])).to.deep.equal(['alice']);
      });

      it('reports removing the last socket as the offline transition with an ISO last-seen time', async () => {
        await store.addSocket('alice', 's1');
        const before = Date.now();
        const result = await store.removeSocket('alice', 's1');
        expect(result.lastForUser).to.equal(true);
        expectIsoTime(result.lastSeen, 'lastSeen');
        expect(Date.parse(result.lastSeen)).to.be.at.least(before - 1000);
        expect(await store.socketCount('alice')).to.equal(0);
        expect(await store.countOnline()).to.equal(0);
        expect(await store.onlineAmong(['alice'])).to.deep.equal([]);
      });

      it('treats removing a socket of an unknown user as a no-op that is no transition', async () => {
        expect((await store.removeSocket('nobody', 's1')).lastForUser).to.equal(false);
        expect(await store.countOnline()).to.equal(0);
      });

      it('treats removing an unknown socket of an online user as a no-op', async () => {
        await store.addSocket('alice', 's1');
        expect((await store.removeSocket('alice', 'not-registered')).lastForUser).to.equal(false);
        expect(await store.socketCount('alice')).to.equal(1);
      });

      it('treats removing a socket under a user it was not added for as a no-op', async () => {
        await store.addSocket('alice', 's1');
        expect((await store.removeSocket('bob', 's1')).lastForUser).to.equal(false);
        expect(await store.socketCount('alice')).to.equal(1);
        // alice's socket is still hers: removing it takes her offline.
        expect((await store.removeSocket('alice', 's1')).lastForUser).to.equal(true);
      });

      it('treats removing the same socket twice as one removal', async () => {
        await store.addSocket('alice', 's1');
        await store.addSocket('alice', 's2');
        await store.removeSocket('alice', 's1');
        expect((await store.removeSocket('alice', 's1')).lastForUser).to.equal(false);
        expect(await store.socketCount('alice')).to.equal(1);
      });
    });

    describe('queries', () => {
      it('onlineAmong: returns the online subset in the order asked', async () => {
        for (const user of ['alice', 'bob', 'carol', 'dave']) await store.addSocket(user, `s-${user}`);
        await store.removeSocket('bob', 's-bob');
        expect(await store.onlineAmong(['dave', 'bob', 'nobody', 'alice', 'carol'])).to.deep.equal(['dave', 'alice', 'carol']);
        expect(await store.onlineAmong([])).to.deep.equal([]);
      });

      // 150 users: more than a small Redis hash keeps in one listpack, so HSCAN pages with a cursor.
      it('listOnline: returns at most `limit` distinct online users, and only online ones', async () => {
        const online = users(150);
        await Promise.all(online.map((user) => store.addSocket(user, `s-${user}`)));
        await store.addSocket('gone', 's-gone');
        await store.removeSocket('gone', 's-gone');

        const ten = await store.listOnline(10);
        expect(ten).to.have.length(10);
        expect(new Set(ten).size, 'distinct').to.equal(10);
        expect(online).to.include.members(ten);

        const all = await store.listOnline(1000);
        expect([...all].sort()).to.deep.equal([...online].sort());
      });

      it('listOnline: lists nobody when nobody is online', async () => {
        expect(await store.listOnline(1000)).to.deep.equal([]);
      });

      it('countOnline: counts users, not sockets', async () => {
        expect(await store.countOnline()).to.equal(0);
        await store.addSocket('alice', 's1');
        await store.addSocket('alice', 's2');
        await store.addSocket('bob', 's3');
        expect(await store.countOnline()).to.equal(2);
        await store.removeSocket('bob', 's3');
        expect(await store.countOnline()).to.equal(1);
      });

      it('socketCount: is 0 for an unknown user and follows adds and removes', async () => {
        expect(await store.socketCount('alice')).to.equal(0);
        for (const socket of ['s1', 's2', 's3']) await store.addSocket('alice', socket);
        expect(await store.socketCount('alice')).to.equal(3);
        await store.removeSocket('alice', 's2');
        expect(await store.socketCount('alice')).to.equal(2);
      });
    });

    describe('concurrency', () => {
      const sockets = Array.from({ length: 50 }, (_, i) => `s${i}`);

      it('reports exactly one online transition for 50 parallel first sockets of one user', async () => {
        const results = await Promise.all(sockets.map((socket) => store.addSocket('alice', socket)));
        expect(results.filter((r) => r.firstForUser)).to.have.length(1);
        expect(results.map((r) => r.socketCount).sort((a, b) => a - b)).to.deep.equal(sockets.map((_, i) => i + 1));
        expect(await store.socketCount('alice')).to.equal(50);
      });

      it('reports exactly one offline transition for 50 parallel removals of one user', async () => {
        await Promise.all(sockets.map((socket) => store.addSocket('alice', socket)));
        const results = await Promise.all(sockets.map((socket) => store.removeSocket('alice', socket)));
        expect(results.filter((r) => r.lastForUser)).to.have.length(1);
        expect(await store.socketCount('alice')).to.equal(0);
        expect(await store.countOnline()).to.equal(0);
      });
    });
  });
}

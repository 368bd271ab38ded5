import { expect } from 'chai';
import { Redis } from 'ioredis';
import { MemoryPresenceStore } from '../../src/presence/MemoryPresenceStore.js';
import { RedisPresenceStore } from '../../src/presence/RedisPresenceStore.js';
import { sleep } from '../support/events.js';
import { requireRedis, startRedis, type RedisServer } from '../support/redis.js';
import { expectIsoTime } from '../support/scenarios.js';
import { presenceStoreContract } from './presenceStore.contract.js';

presenceStoreContract('MemoryPresenceStore', async () => ({
  store: new MemoryPresenceStore(),
  cleanup: async () => undefined,
}));

describe('presence on Redis', () => {
  let redis: RedisServer | undefined;
  /** Every client a test opened, closed after it. */
  const clients: Redis[] = [];

  before(async function () {
    requireRedis(this);
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.quit()));
  });

  /** A new client on the test Redis (closed after the test). */
  const connect = () => {
    const client = new Redis(redis!.url, { lazyConnect: false });
    clients.push(client);
    return client;
  };

  /** One gateway instance's store, on its own connection. */
  const instance = (instanceId: string) => new RedisPresenceStore(connect(), instanceId);

  presenceStoreContract('RedisPresenceStore', async () => {
    await connect().flushall();
    const store = instance('gw-contract');
    return { store, cleanup: () => store.close() };
  });

  describe('ClusterPresenceStore: RedisPresenceStore instances sharing one Redis', () => {
    let a: RedisPresenceStore;
    let b: RedisPresenceStore;
    const staleMs = 200;

    beforeEach(async () => {
      await connect().flushall();
      a = instance('gw-a');
      b = instance('gw-b');
    });

    /** Lets `staleMs` pass so that an instance which stopped heart-beating is stale. */
    const goStale = () => sleep(staleMs + 100);
    const userIds = (offline: Array<{ userId: string }>) => offline.map((o) => o.userId).sort();

    describe('one presence across instances', () => {
      it('counts a user with sockets on two instances as online once', async () => {
        expect((await a.addSocket('alice', 'a1')).firstForUser).to.equal(true);
        expect(await b.addSocket('alice', 'b1')).to.deep.equal({ admitted: true, firstForUser: false, socketCount: 2 });
        for (const store of [a, b]) {
          expect(await store.countOnline()).to.equal(1);
          expect(await store.listOnline(1000)).to.deep.equal(['alice']);
          expect(await store.socketCount('alice')).to.equal(2);
        }
      });

      it('reports the offline transition only when the sockets on both instances are gone', async () => {
        await a.addSocket('alice', 'a1');
        await b.addSocket('alice', 'b1');
        expect((await a.removeSocket('alice', 'a1')).lastForUser).to.equal(false);
        expect(await b.onlineAmong(['alice'])).to.deep.equal(['alice']);
        const last = await b.removeSocket('alice', 'b1');
        expect(last.lastForUser).to.equal(true);
        expect(await a.countOnline()).to.equal(0);
      });

      it('admits exactly the cap out of parallel adds of one user spread over both instances', async () => {
        const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).addSocket('alice', `s${i}`, 2)));
        expect(results.filter((r) => r.admitted)).to.have.length(2);
        expect(await a.socketCount('alice')).to.equal(2);
      });

      it("does not let one instance remove another instance's socket", async () => {
        await a.addSocket('alice', 'shared-id');
        expect((await b.removeSocket('alice', 'shared-id')).lastForUser).to.equal(false);
        expect(await a.socketCount('alice')).to.equal(1);
      });
    });

    describe('heartbeat', () => {
      it('returns true when the instance was unknown, then false', async () => {
        expect(await a.heartbeat()).to.equal(true);
        expect(await a.heartbeat()).to.equal(false);
        expect(await b.heartbeat()).to.equal(true);
      });
    });

    describe('reapStale', () => {
      /** Instance A registers sockets and heart-beats once; B heart-beats too. */
      async function aHoldsSockets() {
        await a.heartbeat();
        await b.heartbeat();
        await a.addSocket('alice', 'a1');
        await a.addSocket('bob', 'a2');
        await a.addSocket('bob', 'a3');
        await a.addSocket('carol', 'a4');
        await b.addSocket('carol', 'b1');
      }

      it('leaves the sockets of an instance that is still heart-beating', async () => {
        await aHoldsSockets();
        expect(await b.reapStale(60_000)).to.deep.equal([]);
        expect(await b.countOnline()).to.equal(3);
      });

      it("removes a silent instance's sockets and returns exactly the users who went offline", async () => {
        await aHoldsSockets();
        await goStale();
        await b.heartbeat();
        const before = Date.now();
        const offline = await b.reapStale(staleMs);

        expect(userIds(offline)).to.deep.equal(['alice', 'bob']);
        for (const { lastSeen } of offline) {
          expectIsoTime(lastSeen, 'lastSeen');
          expect(Date.parse(lastSeen)).to.be.at.least(before - 1000);
        }
        // carol still has her socket on B.
        expect(await b.listOnline(1000)).to.deep.equal(['carol']);
        expect(await b.socketCount('carol')).to.equal(1);
        expect(await b.socketCount('bob')).to.equal(0);
      });

      it('never reaps its own instance', async () => {
        await aHoldsSockets();
        await goStale();
        expect(await a.reapStale(staleMs)).to.deep.equal([]);
        expect(await a.socketCount('alice')).to.equal(1);
      });

      it('makes the reaped instance see its heartbeat missing when it comes back', async () => {
        await aHoldsSockets();
        await goStale();
        await b.heartbeat();
        await b.reapStale(staleMs);
        expect(await a.heartbeat()).to.equal(true);
      });

      it('does not leave the users of a closed instance online for ever', async () => {
        await aHoldsSockets();
        // A stops while alice's socket is still registered (e.g. its drain ran out of time).
        await a.close();
        await goStale();
        await b.heartbeat();
        await b.reapStale(staleMs);
        expect(await b.onlineAmong(['alice', 'bob', 'carol'])).to.deep.equal(['carol']);
      });

      it('reports each user once in total when two instances reap at the same time', async () => {
        await aHoldsSockets();
        const c = instance('gw-c');
        await goStale();
        await b.heartbeat();
        await c.heartbeat();
        const [byB, byC] = await Promise.all([b.reapStale(staleMs), c.reapStale(staleMs)]);
        expect(userIds([...byB, ...byC])).to.deep.equal(['alice', 'bob']);
        expect(await b.countOnline()).to.equal(1);
      });
    });

    describe('resync', () => {
      it('removes entries that are not live and adds live ones that are missing, returning the transitions', async () => {
        await a.addSocket('alice', 'a1'); // gone: alice goes offline
        await a.addSocket('bob', 'a2'); // still live
        await a.addSocket('dave', 'a3'); // gone, but dave is on B too
        await b.addSocket('dave', 'b1');
        await b.addSocket('erin', 'b2'); // erin gets a live socket on A that A had lost
        const before = Date.now();

        const changes = await a.resync([
          { socketId: 'a2', userId: 'bob' },
          { socketId: 'a4', userId: 'carol' },
          { socketId: 'a5', userId: 'erin' },
        ]);

        expect(changes.online).to.deep.equal(['carol']);
        expect(userIds(changes.offline)).to.deep.equal(['alice']);
        expectIsoTime(changes.offline[0].lastSeen, 'lastSeen');
        expect(Date.parse(changes.offline[0].lastSeen)).to.be.at.least(before - 1000);
        expect([...(await a.listOnline(1000))].sort()).to.deep.equal(['bob', 'carol', 'dave', 'erin']);
        expect(await a.socketCount('bob')).to.equal(1);
        expect(await a.socketCount('carol')).to.equal(1);
        expect(await a.socketCount('dave')).to.equal(1);
        expect(await a.socketCount('erin')).to.equal(2);
        // The restored entries are real: removing them takes the users offline normally.
        expect((await a.removeSocket('carol', 'a4')).lastForUser).to.equal(true);
      });

      it('keeps the entries of sockets being admitted, without adding those it does not hold', async () => {
        await a.addSocket('alice', 'a1'); // admitted, not connected yet
        await a.addSocket('bob', 'a2'); // gone
        const changes = await a.resync([], ['a1', 'a3']); // a3: refused, or its add not there yet

        expect(changes.online).to.deep.equal([]);
        expect(userIds(changes.offline)).to.deep.equal(['bob']);
        expect(await a.listOnline(1000)).to.deep.equal(['alice']);
        expect(await a.socketCount('alice')).to.equal(1);
        expect((await a.removeSocket('alice', 'a1')).lastForUser).to.equal(true);
      });

      it('changes nothing when the store already matches the live sockets', async () => {
        await a.addSocket('alice', 'a1');
        expect(await a.resync([{ socketId: 'a1', userId: 'alice' }])).to.deep.equal({ online: [], offline: [] });
        expect(await a.socketCount('alice')).to.equal(1);
      });

      it('restores presence after Redis lost its data (FLUSHALL)', async () => {
        await a.heartbeat();
        await a.addSocket('alice', 'a1');
        await a.addSocket('bob', 'a2');
        await a.addSocket('bob', 'a3');
        await connect().flushall();

        expect(await a.heartbeat()).to.equal(true);
        expect(await a.countOnline()).to.equal(0);

        const changes = await a.resync([
          { socketId: 'a1', userId: 'alice' },
          { socketId: 'a2', userId: 'bob' },
          { socketId: 'a3', userId: 'bob' },
        ]);
        expect([...changes.online].sort()).to.deep.equal(['alice', 'bob']);
        expect(changes.offline).to.deep.equal([]);
        expect(await a.heartbeat()).to.equal(false);
        expect(await b.countOnline()).to.equal(2);
        expect(await b.socketCount('bob')).to.equal(2);
        expect((await a.removeSocket('alice', 'a1')).lastForUser).to.equal(true);
      });
    });
  });
});

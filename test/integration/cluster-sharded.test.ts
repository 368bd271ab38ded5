import { expect } from 'chai';
import { startCluster, type Cluster } from '../support/cluster.js';
import { nextEvent, request, waitFor } from '../support/events.js';
import { requireRedis } from '../support/redis.js';

/**
 * REDIS_ADAPTER=sharded (SPUBLISH/SSUBSCRIBE, Redis 7+): the same cross-instance behaviour as the
 * classic adapter, which test/integration/cluster.test.ts covers in full.
 */
describe('cluster mode with the sharded Redis adapter', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  before(async function () {
    requireRedis(this);
    cluster = await startCluster({ instances: 2, env: { REDIS_ADAPTER: 'sharded', PUSH_API_KEYS: 'k1' } });
    cluster.chat.addRoom('sharded-room', ['s-alice', 's-bob']);
  });
  after(() => cluster?.stop());

  it('relays a direct message and a room message to the other instance', async () => {
    const alice = await cluster.connect(0, 's-alice');
    const bob = await cluster.connect(1, 's-bob');
    const direct = nextEvent(bob, 'receive_message');
    const ack = await request(alice, 'send_message', { receiver_id: 's-bob', content: 'across', client_msg_id: 'sh1' });
    expect((await direct).message.message_id).to.equal(ack.message.message_id);

    await request(alice, 'join_room', { room_id: 'sharded-room' });
    await request(bob, 'join_room', { room_id: 'sharded-room' });
    const inRoom = nextEvent(bob, 'receive_message');
    await request(alice, 'send_group_message', { room_id: 'sharded-room', content: 'to the room' });
    expect((await inRoom).message).to.include({ room_id: 'sharded-room', content: 'to the room' });
  });

  it('announces presence across instances once, and disconnects a user everywhere from either', async () => {
    const watcher = await cluster.connect(0, 's-watcher');
    await request(watcher, 'presence_subscribe', { user_ids: ['s-carol'] });
    const online = nextEvent(watcher, 'user_connected');
    await cluster.connect(1, 's-carol');
    expect((await online).user_id).to.equal('s-carol');

    const res = await fetch(`${cluster.instances[0].url}/api/v1/users/s-carol/disconnect`, {
      method: 'POST',
      headers: { 'x-api-key': 'k1', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await res.json()).to.deep.equal({ disconnected: 1 });
    const offline = await nextEvent(watcher, 'user_disconnected');
    expect(offline.user_id).to.equal('s-carol');
    await waitFor(async () => (await request(watcher, 'get_online_users', { user_ids: ['s-carol'] })).users.length === 0);
  });
});

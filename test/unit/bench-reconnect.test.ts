import { expect } from 'chai';
import { ConnectRefused } from '../../bench/lib/benchSocket.js';
import { SOCKET_IO_CLIENT_RECONNECTION } from '../../bench/lib/loadProtocol.js';
import { backoffDelay, failureCause } from '../../bench/lib/reconnect.js';

describe('bench reconnecting clients', () => {
  it('wait as socket.io-client does: 1 s doubling to 5 s, moved by up to half either way', () => {
    const policy = SOCKET_IO_CLIENT_RECONNECTION;
    // socket.io-client's Backoff: the random's tenths digit, odd or even, picks the direction.
    expect(backoffDelay(policy, 0, 0)).to.equal(1000);
    expect(backoffDelay(policy, 0, 0.15)).to.equal(1075);
    expect(backoffDelay(policy, 0, 0.25)).to.equal(875);
    expect(backoffDelay(policy, 1, 0.99)).to.equal(2990);
    expect(backoffDelay(policy, 2, 0.2)).to.equal(3600);
    expect(backoffDelay(policy, 3, 0.3)).to.equal(5000);
    expect(backoffDelay(policy, 40, 0.2)).to.equal(5000);
  });

  it('name each failed attempt by its cause', () => {
    expect(failureCause(new ConnectRefused('44{}', 'SERVER_BUSY', 740))).to.equal('SERVER_BUSY');
    expect(failureCause(new Error('Unexpected server response: 400'))).to.equal('http 400');
    expect(failureCause(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).to.equal('ECONNREFUSED');
    expect(failureCause(new Error('closed during handshake (1006)'))).to.equal('closed during handshake');
  });
});

import { expect } from 'chai';
import { run } from './scenarios/abuse.js';
import type { ScenarioResult } from './scenario.js';

describe('reliability: abuse is contained', function () {
  this.timeout(60_000);
  let results: ScenarioResult[];
  before(async () => {
    results = await run('test');
  });
  const figures = (i: number) => results[i].figures;

  it('answers a flood with RATE_LIMITED (with retry_after_ms), stores only the allowance, then disconnects the flooder', () => {
    expect(figures(0)['RATE_LIMITED errors received']).to.be.greaterThan(0);
    expect(figures(0)['RATE_LIMITED without retry_after_ms']).to.equal(0);
    expect(figures(0)['messages stored (limit 5 per 10 s)']).to.equal(5);
    expect(figures(0)['flooder disconnected']).to.equal('yes');
  });

  it('closes a peer that stops answering pings', () => {
    expect(figures(1)['closed by the gateway']).to.equal('yes');
  });

  it('disconnects a reader that never reads instead of queueing for it', () => {
    expect(figures(2)['disconnected as a slow consumer']).to.equal('yes');
    expect(figures(2)['gateway_forced_disconnects_total{reason="slow_consumer"}']).to.equal(1);
  });
});

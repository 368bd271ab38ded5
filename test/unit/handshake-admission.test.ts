import { expect } from 'chai';
import { HandshakeAdmission, type AdmissionSettings } from '../../src/limits/HandshakeAdmission.js';

/** An admission whose clock, event-loop delay and random draw the test sets. */
function admission(settings: Partial<AdmissionSettings> = {}) {
  const state = { now: 1_000_000, delayMs: 0, random: 0.5 };
  const subject = new HandshakeAdmission(
    { maxPending: 0, maxLoopDelayMs: 0, retryAfterMs: 1000, ...settings },
    () => state.delayMs,
    () => state.random,
    () => state.now,
  );
  return { subject, state };
}

const admitMany = (subject: HandshakeAdmission, n: number) => Array.from({ length: n }, () => subject.admit());

describe('HandshakeAdmission', () => {
  it('admits up to maxPending handshakes in progress, then refuses until one finishes', () => {
    const { subject } = admission({ maxPending: 2 });
    expect(admitMany(subject, 3)).to.deep.equal([true, true, false]);
    expect(subject.inProgress).to.equal(2);
    subject.finished();
    expect(subject.admit()).to.equal(true);
    expect(subject.admit()).to.equal(false);
  });

  it('refuses while the event loop runs later than maxLoopDelayMs, and admits again once it does not', () => {
    const { subject, state } = admission({ maxLoopDelayMs: 50 });
    state.delayMs = 50;
    expect(subject.admit()).to.equal(true);
    state.delayMs = 51;
    expect(subject.admit()).to.equal(false);
    state.delayMs = 10;
    expect(subject.admit()).to.equal(true);
  });

  it('watches neither signal when both bounds are 0', () => {
    const { subject, state } = admission();
    state.delayMs = 10_000;
    expect(admitMany(subject, 5000).every(Boolean)).to.equal(true);
  });

  it('tells refused clients to come back after retryAfterMs, jittered between half and one and a half of it', () => {
    const { subject, state } = admission({ maxPending: 1, retryAfterMs: 1000 });
    subject.admit();
    expect(subject.admit()).to.equal(false);
    // One refusal for one admission in the last second: overload 1 + 1/1.
    state.random = 0;
    expect(subject.retryAfterMs()).to.equal(1000);
    state.random = 0.999;
    expect(subject.retryAfterMs()).to.equal(2998);
  });

  it('spreads the returns wider the more handshakes it refuses per admitted one, up to 8 times retryAfterMs', () => {
    const { subject, state } = admission({ maxPending: 10, retryAfterMs: 100 });
    admitMany(subject, 10);
    admitMany(subject, 20);
    expect(subject.retryAfterMs(), '20 refused per 10 admitted').to.equal(100 * (1 + 20 / 10));
    // Half a second into the next second, the previous one counts for half.
    state.now += 1500;
    for (let i = 0; i < 10; i++) subject.finished();
    admitMany(subject, 10);
    expect(subject.retryAfterMs(), '10 refused per 5 + 10 admitted').to.equal(Math.round(100 * (1 + 10 / 15)));
    admitMany(subject, 1000);
    expect(subject.retryAfterMs(), 'capped').to.equal(100 * 8);
    state.now += 2000;
    expect(subject.retryAfterMs(), 'nothing refused in the last second').to.equal(100);
  });
});

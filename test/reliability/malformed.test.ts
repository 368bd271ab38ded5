import { expect } from 'chai';
import type { RecordedRequest } from '../../src/reference/serviceKit.js';
import type { ScenarioResult } from './scenario.js';
import { CHAT_ROUTES, FIGURE, FORGED_MESSAGE, LogWatch, SUMMARY_NAME, outsideRoutes, run } from './scenarios/malformed.js';

/** Figures every family reports (the checks after each family). */
const PER_FAMILY_CHECKS: string[] = [
  FIGURE.crashes,
  FIGURE.unhandled,
  FIGURE.healthFailed,
  FIGURE.normalFailed,
  FIGURE.outsideRoutes,
  FIGURE.decoyHits,
  FIGURE.pollution,
];

describe('reliability: malformed traffic against a live gateway', function () {
  // One run of every family (about 10 s on a laptop); the tests read its figures.
  this.timeout(90_000);
  let results: ScenarioResult[] = [];
  before(async () => {
    results = await run('test');
  });

  const families = () => results.filter((r) => r.name !== SUMMARY_NAME);
  const summary = () => results.find((r) => r.name === SUMMARY_NAME)!;
  const family = (part: string) => results.find((r) => r.name.includes(part))!;
  /**
   * Asserts `figure` is 0 wherever it is reported: in the totals always, in every family for the
   * checks run after each family, else in the families that measure it. Names the family and its notes.
   */
  const zeroEverywhere = (figure: string) => {
    const reporting = results.filter((r) => figure in r.figures);
    expect(reporting.map((r) => r.name), `results reporting ${figure}`).to.include(SUMMARY_NAME);
    if (PER_FAMILY_CHECKS.includes(figure)) expect(reporting, `families reporting ${figure}`).to.have.length(results.length);
    for (const r of reporting) expect(r.figures[figure], `${r.name}: ${figure}\n  ${(r.notes ?? []).join('\n  ')}`).to.equal(0);
  };

  it('sends every family of malformed traffic', () => {
    expect(families()).to.have.length(11);
    for (const r of families()) expect(r.figures[FIGURE.sent], `${r.name}: ${(r.notes ?? []).join('; ')}`).to.be.above(0);
    expect(family('fuzzed frames').figures[FIGURE.sent]).to.be.at.least(2500);
  });

  it('never crashes the gateway nor raises an unhandled rejection or exception', () => {
    zeroEverywhere(FIGURE.crashes);
    zeroEverywhere(FIGURE.unhandled);
  });

  it('keeps /health answering and a normal message acked and persisted once after every family', () => {
    zeroEverywhere(FIGURE.healthFailed);
    zeroEverywhere(FIGURE.normalFailed);
  });

  it('calls the services only on their routes, with every id encoded as one segment, and never another host', () => {
    zeroEverywhere(FIGURE.outsideRoutes);
    zeroEverywhere(FIGURE.decoyHits);
  });

  it('leaves Object.prototype and the other built-in prototypes unpolluted', () => {
    zeroEverywhere(FIGURE.pollution);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('writes every log line as one JSON object that CR/LF in client data cannot split or forge', () => {
    const figures = summary().figures;
    expect(figures[FIGURE.logLines], 'log lines').to.be.above(0);
    expect(figures[FIGURE.logUnparseable], `log lines not JSON\n  ${(summary().notes ?? []).join('\n  ')}`).to.equal(0);
    expect(figures[FIGURE.logForged], 'forged log lines').to.equal(0);
  });

  it('refuses every wrong-type payload, in the ack or as an error event when there is no ack', () => {
    const types = family('wrong types').figures;
    expect(types[FIGURE.wrongTypeAccepted], (family('wrong types').notes ?? []).join('\n')).to.equal(0);
    expect(types[FIGURE.wrongTypeUnanswered], (family('wrong types').notes ?? []).join('\n')).to.equal(0);
    expect(types[FIGURE.noAckSent]).to.be.above(0);
    expect(types[FIGURE.noAckErrors], 'error events for payloads sent without an ack').to.equal(types[FIGURE.noAckSent]);
  });

  it('stores and relays CR/LF, markup and control characters in contents verbatim', () => {
    zeroEverywhere(FIGURE.notVerbatim);
  });

  it('answers fuzzed HTTP requests with no 5xx', () => {
    zeroEverywhere(FIGURE.http5xx);
  });

  describe('contract limits under malformed traffic', () => {
    it('refuses every frame over MAX_PAYLOAD_BYTES with PAYLOAD_TOO_LARGE (bytes, not characters; each frame its own size)', () => {
      zeroEverywhere(FIGURE.oversizeAccepted);
    });

    it('gives every distinct client_msg_id its own message (the idempotency key is never mangled)', () => {
      zeroEverywhere(FIGURE.keyCollisions);
    });

    it('acts towards the chat-service as exactly the user the token names', () => {
      zeroEverywhere(FIGURE.foreignDeletes);
    });

    it('answers ids that cannot be stored with VALIDATION_FAILED, never INTERNAL', () => {
      zeroEverywhere(FIGURE.internalAnswers);
    });
  });

  describe('the checks themselves', () => {
    const request = (method: string, path: string, host = 'chat:1'): RecordedRequest => ({ method, path, headers: { host }, body: {}, at: 0 });

    it('flag a request off the routes, with a dot or unencoded segment, or to another host', () => {
      const notes: string[] = [];
      const fine = [request('POST', '/messages'), request('POST', '/messages/a%2F..%2Fb/receipts'), request('GET', '/rooms/r%3Fx%3D1/members/u')];
      expect(outsideRoutes(fine, CHAT_ROUTES, 'chat:1', notes), notes.join('; ')).to.equal(0);
      const bad = [
        request('GET', '/rooms/../admin/members/u'),
        request('POST', '/messages/%2e%2e/receipts'),
        request('DELETE', '/messages/a/b'),
        request('POST', '/messages/a b/receipts'),
        request('POST', '/messages', 'evil:80'),
        request('GET', '/admin'),
      ];
      expect(outsideRoutes(bad, CHAT_ROUTES, 'chat:1', [])).to.equal(bad.length);
    });

    it('flag a log line split by CR/LF and count the forged one', async () => {
      const logs = new LogWatch();
      await new Promise<void>((resolve) => logs.stream.write(`{"level":"info","message":"a"}\n{"level":"warn","message":"x\r\n{"level":"error","message":"${FORGED_MESSAGE}"}\n`, () => resolve()));
      expect({ lines: logs.lines, unparseable: logs.unparseable, forged: logs.forged }).to.deep.equal({ lines: 3, unparseable: 1, forged: 1 });
    });
  });
});

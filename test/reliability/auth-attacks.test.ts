import { expect } from 'chai';
import type { ScenarioResult } from './scenario.js';
import { CSWSH_SECTION, IDENTITY_SECTION, TOKEN_FAMILIES, TOKEN_SECTIONS, run } from './scenarios/auth-attacks.js';

/** Reliability scenario `auth-attacks` at test intensity: every forged token, spoof and hijack is counted, and none gets in. */

describe('reliability: auth attacks', function () {
  let results: ScenarioResult[] = [];

  before(async function () {
    this.timeout(60_000);
    results = await run('test');
  });

  /** The figures of one report section. */
  function figures(section: string): Record<string, number | string> {
    const found = results.find((r) => r.name === section);
    expect(found, `section "${section}"`).to.not.equal(undefined);
    return found!.figures;
  }

  /** The section's notes, as a failure message. */
  const notesOf = (section: string) => JSON.stringify(results.find((r) => r.name === section)?.notes ?? []);

  /** `{ family: figure }` for every token family, so a failure names the families at once. */
  const perFamily = (f: Record<string, number | string>, suffix: 'tried' | 'accepted') =>
    Object.fromEntries(TOKEN_FAMILIES.map((family) => [family, f[`${family}: ${suffix}`]]));

  for (const section of Object.values(TOKEN_SECTIONS)) {
    describe(section, () => {
      it('admits a valid token on every channel (the control that makes the zeros mean something)', () => {
        const f = figures(section);
        expect(f['control: valid tokens presented']).to.be.greaterThan(0);
        expect(f['control: valid tokens admitted']).to.equal(f['control: valid tokens presented']);
      });

      it('tries every family of forged tokens', () => {
        const tried = perFamily(figures(section), 'tried');
        for (const [family, n] of Object.entries(tried)) expect(n, `${family}: tried`).to.be.a('number').greaterThan(0);
      });

      it('accepts none of them, in any family', () => {
        const f = figures(section);
        const zeros = Object.fromEntries(TOKEN_FAMILIES.map((family) => [family, 0]));
        expect(perFamily(f, 'accepted'), notesOf(section)).to.deep.equal(zeros);
        expect(f['all families: accepted']).to.equal(0);
      });

      it("refuses them with the contract's codes (AUTH_MISSING / AUTH_INVALID / AUTH_EXPIRED; FORBIDDEN or AUTH_EXPIRED on refresh_token)", () => {
        const f = figures(section);
        const notes = notesOf(section);
        expect(f['refused with another code'], notes).to.equal(0);
        expect(f['refresh_token refused otherwise'], notes).to.equal(0);
      });
    });
  }

  describe(IDENTITY_SECTION, () => {
    it('runs the spoofs in every mode, with a working control', () => {
      const f = figures(IDENTITY_SECTION);
      expect(f['modes checked']).to.equal(Object.keys(TOKEN_SECTIONS).length);
      expect(f['spoofed sender_id/user_id events: tried']).to.be.greaterThan(0);
      expect(f["refresh_token with another user's valid token: tried"]).to.be.greaterThan(0);
      expect(f['control: events with the own id admitted']).to.equal(f['control: events with the own id presented']);
    });

    it('answers every spoofed sender_id / user_id with FORBIDDEN and never calls the chat-service as the spoofed user', () => {
      const f = figures(IDENTITY_SECTION);
      const notes = notesOf(IDENTITY_SECTION);
      expect(f['spoofed sender_id/user_id events: accepted'], notes).to.equal(0);
      expect(f['spoofed events answered other than FORBIDDEN'], notes).to.equal(0);
      expect(f['chat-service calls naming a spoofed user'], notes).to.equal(0);
    });

    it("refuses refresh_token with another user's valid token with FORBIDDEN, and the socket keeps acting as its own user", () => {
      const f = figures(IDENTITY_SECTION);
      const notes = notesOf(IDENTITY_SECTION);
      expect(f["refresh_token with another user's valid token: accepted"], notes).to.equal(0);
      expect(f['refresh_token refusals other than FORBIDDEN'], notes).to.equal(0);
      expect(f['sockets acting as another user afterwards'], notes).to.equal(0);
    });
  });

  describe(CSWSH_SECTION, () => {
    it('connects no socket from a forbidden Origin, over websocket or polling', () => {
      const f = figures(CSWSH_SECTION);
      const notes = notesOf(CSWSH_SECTION);
      expect(f['websocket: tried']).to.be.greaterThan(0);
      expect(f['polling: tried']).to.be.greaterThan(0);
      expect({ websocket: f['websocket: accepted'], polling: f['polling: accepted'] }, notes).to.deep.equal({ websocket: 0, polling: 0 });
    });

    it('never allows a forbidden Origin in Access-Control-Allow-Origin of the polling handshake or its preflight', () => {
      const f = figures(CSWSH_SECTION);
      expect(f['CORS responses checked (polling GET and preflight)']).to.be.greaterThan(0);
      expect(f['CORS responses allowing a forbidden origin'], notesOf(CSWSH_SECTION)).to.equal(0);
    });

    it('still connects and allows the configured origin', () => {
      const f = figures(CSWSH_SECTION);
      expect(f['control: allowed-origin handshakes connected']).to.equal(f['control: allowed-origin handshakes tried']);
      expect(f['control: CORS responses echoing the allowed origin']).to.equal(f['control: CORS responses for the allowed origin']);
    });
  });
});

import { expect } from 'chai';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Production dependencies must be at or above the first version free of the published
 * advisories for them. `npm audit --omit=dev` checks the same against the live advisory
 * database in .ci/run when the registry offers it; this floor list holds without a network.
 */
const SAFE_FLOORS: Record<string, { min: string; why: string }> = {
  'socket.io': { min: '4.6.2', why: 'CVE-2023-32695 (via socket.io-parser), GHSA-25hc-qcg6-38wj' },
  'socket.io-parser': { min: '4.2.4', why: 'CVE-2023-32695: insufficient validation of packets' },
  'engine.io': { min: '6.6.2', why: 'CVE-2023-31125, CVE-2024-38355 and the ws advisory below' },
  ws: { min: '8.17.1', why: 'CVE-2024-37890: DoS with many HTTP headers' },
  jsonwebtoken: { min: '9.0.0', why: 'CVE-2022-23529, CVE-2022-23539, CVE-2022-23540, CVE-2022-23541' },
  jws: { min: '4.0.1', why: 'GHSA-869p-cjfg-cm3x: HMAC signature verification' },
  axios: { min: '1.12.0', why: 'CVE-2025-27152 (SSRF with absolute URLs), CVE-2025-58754 (data: URI DoS)' },
  express: { min: '5.0.1', why: 'CVE-2024-43796, CVE-2024-47764 (cookie), CVE-2024-45590 (body-parser)' },
  'body-parser': { min: '2.0.2', why: 'CVE-2024-45590: DoS with URL encoding' },
  'path-to-regexp': { min: '8.0.0', why: 'CVE-2024-45296, CVE-2024-52798: ReDoS' },
  cookie: { min: '0.7.0', why: 'CVE-2024-47764: out-of-bounds characters' },
  'follow-redirects': { min: '1.15.6', why: 'CVE-2024-28849: Proxy-Authorization leak' },
  'form-data': { min: '4.0.4', why: 'CVE-2025-7783: unsafe random boundary' },
};

const ROOT = resolve(import.meta.dirname, '../..');

/** Every installed copy of a package (top level and nested), with its version. */
function installedVersions(name: string, dir = join(ROOT, 'node_modules'), depth = 0): string[] {
  const found: string[] = [];
  const manifest = join(dir, name, 'package.json');
  if (existsSync(manifest)) found.push(JSON.parse(readFileSync(manifest, 'utf8')).version);
  if (depth > 3 || !existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    const scoped = entry.startsWith('@') ? readdirSync(join(dir, entry)).map((e) => join(entry, e)) : [entry];
    for (const pkg of scoped) {
      const nested = join(dir, pkg, 'node_modules');
      if (existsSync(nested)) found.push(...installedVersions(name, nested, depth + 1));
    }
  }
  return found;
}

function atLeast(version: string, min: string): boolean {
  const a = version.split(/[.-]/).map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

describe('dependencies and published advisories', () => {
  for (const [name, { min, why }] of Object.entries(SAFE_FLOORS)) {
    it(`${name} is at ${min} or later everywhere it is installed (${why})`, () => {
      const versions = installedVersions(name);
      expect(versions, `${name} is installed`).to.not.be.empty;
      for (const v of versions) expect(atLeast(v, min), `${name}@${v} < ${min}`).to.equal(true);
    });
  }
});
